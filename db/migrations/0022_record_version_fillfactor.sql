-- Ingestion marks a version superseded (an UPDATE of superseded_at) when a higher one is stored.
-- Pages filled to the brim leave that update no room on its own page, so each one wrote a new
-- heap tuple elsewhere and new entries in every index of the partition. A tenth of each page
-- kept free lets it stay on the page as a heap-only (HOT) update: no index entries.
-- (Applies to pages written from now on.)
ALTER TABLE record_version_enterprise_registry SET (fillfactor = 90);
ALTER TABLE record_version_tax_filing SET (fillfactor = 90);
ALTER TABLE record_version_tax_credit_rating SET (fillfactor = 90);
ALTER TABLE record_version_social_insurance SET (fillfactor = 90);
ALTER TABLE record_version_utility_bill SET (fillfactor = 90);
ALTER TABLE record_version_contract_performance SET (fillfactor = 90);
ALTER TABLE record_version_administrative_licence SET (fillfactor = 90);
ALTER TABLE record_version_administrative_penalty SET (fillfactor = 90);
ALTER TABLE record_version_dishonesty_listing SET (fillfactor = 90);
