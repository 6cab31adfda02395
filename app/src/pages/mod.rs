mod home;
mod intercom;
mod not_found;
mod records;
mod sign_in;

pub use home::HomePage;
pub use intercom::{IntercomPage, SyncPage};
pub use not_found::NotFoundPage;
pub use records::{ContactsPage, CustomersPage, InteractionsPage};
pub use sign_in::SignInPage;
