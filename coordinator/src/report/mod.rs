//! Reports: terminal tables now; HTML and the dashboard build on the same stage results.

pub mod terminal;
