//! `integrations` and `integration_checks`: an organisation's connections to other tools, with
//! credentials sealed as one JSON object and only masked hints readable, and their health history.

mod checks;
mod credentials;
mod health;
mod rows;
mod sync;

pub use checks::{Check, CheckAlert, HistoryFilter, NewCheck, check_alert, history, insert_check};
pub use credentials::{
    NewCredentials, RefreshedCredentials, Sealed, lock, mark_reauth_required, replace_credentials,
    sealed, store_refreshed, usable_of_kind,
};
pub use health::{
    CheckApplied, Due, Gauge, apply_check, count_calls, due_for_check, due_for_token_refresh,
    gauges, set_next_check,
};
pub use rows::{
    Filter, Integration, NewIntegration, Switch, delete, ensure_installation, find,
    find_slack_team, for_installation, insert, list, merge_config, org_of, set_enabled,
    update_config,
};
pub use sync::{apply_sync, due_for_sync, move_due_sync, next_sync, schedule_first_syncs};
