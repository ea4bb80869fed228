//! End-to-end tests of the simulator over real loopback HTTP.

mod answer;
mod answer_key;
mod faults;
mod helpers;
mod latency;
mod responses;
mod routes;
mod stream;
