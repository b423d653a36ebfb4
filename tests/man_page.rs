//! The committed man page (docs/man/bpftop.1, from scripts/gen-docs) must
//! mention every visible long option of the CLI, taken from clap's Command,
//! and be exactly what the sources give (options, keys, settings): a new
//! option or key without a regenerated page fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::CommandFactory;

use bpftop::cli::Cli;

fn long_options() -> Vec<String> {
    let mut cmd = Cli::command();
    cmd.build();
    let longs: Vec<String> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(str::to_owned))
        .collect();
    assert!(longs.len() > 10, "too few options: {longs:?}");
    longs
}

fn check(page: &str, what: &str) {
    for long in long_options() {
        // roff escapes the dashes.
        let written = format!("\\-\\-{}", long.replace('-', "\\-"));
        assert!(
            page.contains(&written),
            "{what} does not mention --{long}; run scripts/gen-docs"
        );
    }
}

#[test]
fn generated_man_page_mentions_every_long_option() {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .unwrap();
    check(&String::from_utf8(page).unwrap(), "the generated page");
}

#[test]
fn committed_man_page_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/man/bpftop.1");
    let page = std::fs::read_to_string(path).expect("docs/man/bpftop.1: run scripts/gen-docs");
    check(&page, "docs/man/bpftop.1");
    let mut generated = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut generated)
        .unwrap();
    generated.extend_from_slice(bpftop::man::extra_sections().as_bytes());
    assert!(
        page.as_bytes() == generated.as_slice(),
        "docs/man/bpftop.1 is not what the sources give: run scripts/gen-docs"
    );
}
