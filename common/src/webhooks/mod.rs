//! Inbound GitHub webhooks: verifying, parsing and storing deliveries (with group commit), and
//! deciding what each event means; and asking GitHub to redeliver what was not stored.

mod ingest;
mod parse;
mod receive;
mod redeliver;
mod route;

pub use ingest::{Ingested, Ingestor};
pub use parse::{ParsedDelivery, parse_delivery, without_nul};
pub use receive::{BodyVerifier, DeliveryHeaders, SignedBy, Verified, WebhookReceiver};
pub use redeliver::{SweepReport, sweep};
pub use route::{Routed, route};
