//! Inbound GitHub webhooks: verifying, parsing and storing deliveries (with group commit), and
//! deciding what each event means.

mod ingest;
mod parse;
mod receive;
mod route;

pub use ingest::{Ingested, Ingestor};
pub use parse::{ParsedDelivery, parse_delivery, without_nul};
pub use receive::{BodyVerifier, DeliveryHeaders, SignedBy, Verified, WebhookReceiver};
pub use route::{Routed, route};
