//! Types shared by the server and the browser, and the pure logic on them.

mod paging;
mod realtime;
mod records;
mod settings;
mod sync;
mod user;

pub use paging::{Page, PageRequest};
pub use realtime::{NotificationLine, RealtimeCounts, RealtimeState, WEBHOOK_PATH};
pub use records::{
    format_timestamp, percent_encode, Contact, ContactEdit, Customer, CustomerEdit, CustomerField, Interaction,
    IntercomConnection, NewContact, NewCustomer, NewInteraction, Zone, CONTACT_ROLES,
};
pub use settings::*;
pub use sync::*;
pub use user::{slugify, Membership, Role, SessionUser, Workspace};
