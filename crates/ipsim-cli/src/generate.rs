//! `ipsim completions SHELL` and `ipsim man`: generated from the command line's own
//! definition, so they never drift from it.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::Cli;
use crate::output::write_to;

/// Prints the completion script for `shell`.
pub fn completions(shell: Shell) -> anyhow::Result<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ipsim", &mut buf);
    emit(&buf)
}

/// Prints the manual page (roff) of `ipsim` (its SUBCOMMANDS section lists them all), or of
/// one subcommand as `ipsim-NAME`.
pub fn man(command: Option<&str>) -> anyhow::Result<u8> {
    let cmd = Cli::command();
    let page = match command {
        None => cmd,
        Some(name) => {
            let Some(sub) = cmd.find_subcommand(name) else {
                let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
                return Err(crate::exit::usage(format!(
                    "ipsim man {name}: no such command; give one of {}",
                    names.join(", ")
                )));
            };
            let full = format!("ipsim-{name}");
            sub.clone()
                .name(full.clone())
                .bin_name(full)
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    emit(&buf)
}

fn emit(bytes: &[u8]) -> anyhow::Result<u8> {
    if !crate::output::quiet() {
        write_to(&mut std::io::stdout().lock(), bytes)?;
    }
    Ok(crate::exit::OK)
}
