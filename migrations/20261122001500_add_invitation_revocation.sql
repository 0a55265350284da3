-- Invitations can be revoked: by an org_admin, by a newer invitation to the same address, by the
-- invitee's removal from the organisation, or by their inviter losing the right to invite. A
-- revoked invitation never redeems.
ALTER TABLE invitations
    ADD COLUMN revoked_at     timestamptz,
    ADD COLUMN revoked_reason text CHECK (revoked_reason IN
        ('revoked', 'superseded', 'member_removed', 'inviter_lost_rights'));

-- Only the newest open invitation per organisation and address stays open.
UPDATE invitations i SET revoked_at = now(), revoked_reason = 'superseded'
WHERE i.accepted_at IS NULL
  AND EXISTS (
      SELECT 1 FROM invitations n
      WHERE n.org_id = i.org_id AND n.email = i.email AND n.accepted_at IS NULL
        AND (n.created_at, n.id) > (i.created_at, i.id));

CREATE UNIQUE INDEX invitations_open_email_key ON invitations (org_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
