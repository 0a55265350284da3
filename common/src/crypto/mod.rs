//! Cryptography in one place: password hashing, opaque tokens, access-token JWTs, the sealed
//! envelope for third-party secrets, purpose-bound derived keys and the signed flow states.

pub mod jwt;
pub mod keyring;
pub mod password;
pub mod purpose_keys;
pub mod rotation;
pub mod sealed_column;
pub mod signature;
pub mod signed_state;
pub mod strength;
pub mod tokens;
