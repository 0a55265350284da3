//! Cryptography in one place: password hashing, opaque tokens, access-token JWTs and the sealed
//! envelope for third-party secrets.

pub mod jwt;
pub mod keyring;
pub mod password;
pub mod rotation;
pub mod signature;
pub mod strength;
pub mod tokens;
