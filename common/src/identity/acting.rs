//! The subject of an audited change: who acts, for which organisation, and from where.

use super::ClientMeta;
use crate::domain::{OrgId, UserId};

/// A signed-in user acting in an organisation, with the network details recorded on the audit
/// entry of what they do.
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    pub meta: &'a ClientMeta,
    pub org: OrgId,
    pub actor: UserId,
}
