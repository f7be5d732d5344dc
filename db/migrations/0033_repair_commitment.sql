-- Repair under 《信用修复管理办法》 (in force 2026-04-01): an application carries the business's
-- public credit commitment (信用承诺书) — the text from the service's catalogue it signed, exactly as
-- signed, the signer's name and when — together with its proof the duty is done. Applications
-- made before carry none.
ALTER TABLE repair_application
    ADD COLUMN commitment_id    text,
    ADD COLUMN commitment_text  text CHECK (char_length(commitment_text) <= 2000),
    ADD COLUMN signed_by        text CHECK (char_length(signed_by) BETWEEN 1 AND 100),
    ADD COLUMN signed_at        timestamptz;
