//! Typed ids, so a user id can never be passed where an organisation id is expected (nor an
//! incident id where a repository id is).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    // The newtype itself: its derives and `Display`, written once for both kinds of id.
    (@newtype $(#[$attr:meta])* $name:ident($inner:ty)) => {
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            Serialize,
            Deserialize,
            sqlx::Type,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        $(#[$attr])*
        pub struct $name(pub $inner);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
    ($name:ident: i64) => {
        id_type!(@newtype
            /// A numeric id GitHub assigns.
            #[schema(value_type = i64)]
            $name(i64)
        );
    };
    ($name:ident) => {
        id_type!(@newtype #[schema(value_type = String, format = Uuid)] $name(Uuid));

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

id_type!(UserId);
id_type!(OrgId);
id_type!(SessionId);
id_type!(IncidentId);
id_type!(IncidentEventId);
id_type!(RepositoryId);
id_type!(WorkflowRunId);
id_type!(DeliveryId);
id_type!(NotificationId);
id_type!(InstallationId: i64);
id_type!(IntegrationId);
// A user's link to a provider account (`oauth_connections`).
id_type!(ConnectionId);
id_type!(InvitationId);
// One check or test in an integration's health history.
id_type!(CheckId);
id_type!(ApplicationId);
