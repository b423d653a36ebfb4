//! What the column table and the meter table share: a handle type that is
//! a `u8` index into a static table of specs, each with an `id` and a
//! `default` flag, and the handles built from the table at compile time.

/// Whether two strings are equal, in a constant.
pub(crate) const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// For `$handle($u8)` indexing `$table` (specs with `id` and `default`):
/// `$handle::ALL` (every entry, in the table's order), `$handle::DEFAULT`
/// (the default ones, in order) and `$handle::named(id)`, which in a
/// constant does not compile for an id the table lacks.
macro_rules! table_handles {
    ($handle:ident, $table:ident, $what:literal) => {
        // The handle is a u8 index.
        const _: () = assert!($table.len() <= 256);

        impl $handle {
            /// Every entry, in the table's order.
            pub const ALL: &'static [$handle] = &{
                let mut all = [$handle(0); $table.len()];
                let mut i = 0;
                while i < all.len() {
                    all[i] = $handle(i as u8);
                    i += 1;
                }
                all
            };

            /// The entries shown without a configuration, in the table's
            /// order.
            pub const DEFAULT: &'static [$handle] = &{
                const COUNT: usize = {
                    let (mut n, mut i) = (0, 0);
                    while i < $table.len() {
                        if $table[i].default {
                            n += 1;
                        }
                        i += 1;
                    }
                    n
                };
                let mut default = [$handle(0); COUNT];
                let (mut n, mut i) = (0, 0);
                while i < $table.len() {
                    if $table[i].default {
                        default[n] = $handle(i as u8);
                        n += 1;
                    }
                    i += 1;
                }
                default
            };

            /// The entry with exactly this id. In a constant, an id that
            /// is not in the table does not compile; at run time it panics.
            pub(crate) const fn named(id: &str) -> $handle {
                let mut i = 0;
                while i < $table.len() {
                    if $crate::ui::table::same($table[i].id, id) {
                        return $handle(i as u8);
                    }
                    i += 1;
                }
                panic!(concat!("no ", $what, " with this id"))
            }
        }
    };
}

pub(crate) use table_handles;
