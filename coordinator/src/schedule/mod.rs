//! The one scheduler core of perf stages and eval leases. A unit of work (a perf shard, an eval
//! batch) is handed to one agent session ([`Holdings`]); only that session speaks for it
//! (anything else is foreign: ignored, counted); when the session is lost its held units come
//! back to the work to re-assign (perf) or re-queue (eval, at most [`Limits::max_attempts`]
//! times per item); when no agent says anything for [`Limits::silence`] the work stops with an
//! error naming the units out; a cancel goes to every holder and is waited for
//! [`Limits::cancel_grace`]. [`drive`] is the loop doing this around a [`Work`]; what a unit is
//! and how it is split stays with the work.

mod drive;
mod holdings;
mod limits;
mod watch;

pub use drive::{Ended, Stop, Work, drive};
pub use holdings::{Holdings, Voice};
pub use limits::Limits;
pub use watch::Watch;
