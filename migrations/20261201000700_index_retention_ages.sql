-- Retention (RETENTION_* settings): the worker prunes old history in bounded batches, oldest first.
-- A delivery's payload is dropped after RETENTION_DELIVERY_PAYLOAD_DAYS while its row stays; the
-- column stays NOT NULL (an empty payload) and payload_pruned_at says when and that it happened.
ALTER TABLE webhook_deliveries ADD COLUMN payload_pruned_at timestamptz;

-- Each batch reads the oldest rows of its class by these indexes instead of scanning the table.
CREATE INDEX webhook_deliveries_payload_age_idx ON webhook_deliveries (received_at)
    WHERE payload_pruned_at IS NULL;
CREATE INDEX integration_checks_age_idx ON integration_checks (checked_at);
CREATE INDEX notifications_age_idx ON notifications (created_at);
CREATE INDEX audit_logs_age_idx ON audit_logs (created_at);
