//! Testing an integration's settings before they are saved (the console wizard's "Test
//! connection"): the same checks as creating one, then the type's connection test; nothing is stored.

use crate::{Error, domain::OrgId, services::Services};

use super::{IntegrationIn, TestReport, manage::check_input};

/// Checks `input` as `create` would (`Error::InvalidFields`, `Error::DestinationNotAllowed`) and
/// runs its connection test with the credentials as given.
pub async fn test_unsaved(
    services: &Services,
    org: OrgId,
    input: &IntegrationIn,
) -> Result<TestReport, Error> {
    let kind = check_input(services, org, input).await?;
    let creds = input.credentials.as_object().cloned().unwrap_or_default();
    Ok(services.tester.test(org, kind, &input.config, &creds).await)
}
