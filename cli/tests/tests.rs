//! Integration tests of the `better-auth` binary, one test binary for all (as ripgrep does).

mod init;
mod pty;
mod util;
