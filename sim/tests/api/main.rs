//! End-to-end tests of the simulator over real loopback HTTP.

mod answer;
mod faults;
mod helpers;
mod latency;
mod routes;
mod stream;
