//! What a mailed token is for, and how a message left RepoPal.

crate::closed_set! {
    /// The purpose a single-use mailed token was issued for.
    pub enum EmailPurpose {
        VerifyEmail = "verify_email",
        ResetPassword = "reset_password",
    }
}

crate::closed_set! {
    /// How an outbox message was delivered: over SMTP, or kept in the outbox table for the developer.
    pub enum MailDelivery {
        Smtp = "smtp",
        Outbox = "outbox",
    }
}
