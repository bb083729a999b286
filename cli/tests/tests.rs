//! Integration tests of the `better-auth` binary, one test binary for all (as ripgrep does).

mod init;
#[cfg(unix)] // a pseudo-terminal through util-linux `script`
mod pty;
mod util;
