-- Every credit read writes an audit row, so every index on audit_log is paid on the hot path.
-- Nothing looks rows up by acting organisation (operators list by time or by subject; a
-- business's "who looked at me" goes by subject): that index goes.
DROP INDEX audit_log_actor_org;
