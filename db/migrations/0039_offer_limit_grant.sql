-- The service may set a bank's offer limit (`PUT /v1/bank/settings`, issue 22) and nothing else
-- of an organisation: its role keeps no UPDATE on the rest of the row.
GRANT UPDATE (officer_offer_limit_fen) ON organisations TO xyd_app;
