mod loaded;
mod notice;
mod pager;
mod shell;

pub use loaded::{load, Loaded};
pub use notice::{ErrorNotice, FieldMessage};
pub use pager::Pager;
pub use shell::{AppShell, CurrentUser};
