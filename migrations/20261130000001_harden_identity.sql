-- Pre-hijack and brute-force defences.
--
-- A GitHub link made while its account's email was unverified is never a sign-in method, and a
-- password reset or a reclaim through GitHub removes it. Links that exist now on unverified
-- accounts are marked so.
ALTER TABLE oauth_connections ADD COLUMN linked_unverified boolean NOT NULL DEFAULT false;
UPDATE oauth_connections c SET linked_unverified = true
FROM users u WHERE u.id = c.user_id AND u.email_verified_at IS NULL;

-- Failed password logins per account (the normalised email), across every source address. An
-- attempt is counted before its hash is checked, so concurrent guesses cannot outrun the lock.
CREATE TABLE login_throttle (
    email        text PRIMARY KEY,
    failures     integer NOT NULL,
    locked_until timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- A password chosen while the account's email was unproven may be a squatter's. When GitHub later
-- proves the address, such a password (and every session) goes. A password reset through the
-- mailed link proves it. Existing unverified accounts' passwords are marked.
ALTER TABLE users ADD COLUMN password_unproven boolean NOT NULL DEFAULT false;
UPDATE users SET password_unproven = true WHERE password_hash IS NOT NULL AND email_verified_at IS NULL;
