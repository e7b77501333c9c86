//! The interactive shell (placeholder).
use crate::lang::cli::Config;
use crate::lang::Net;
pub fn run(cfg: Config, engine: Option<Box<dyn Net + Send>>) -> u8 {
    crate::lang::cli::run(cfg, crate::lang::cli::Input::Stdin, engine)
}
