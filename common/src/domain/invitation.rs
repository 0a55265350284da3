//! The closed sets of invitations.

crate::closed_set! {
    /// Why an invitation stopped being redeemable before it was used.
    pub enum RevokeReason {
        /// An org_admin revoked it.
        Revoked = "revoked",
        /// A newer invitation to the same address replaced it.
        Superseded = "superseded",
        /// The invitee was removed from the organisation.
        MemberRemoved = "member_removed",
        /// The inviter can no longer invite (demoted, removed, account gone).
        InviterLostRights = "inviter_lost_rights",
    }
}
