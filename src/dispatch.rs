//! One function compiled three times: for AVX-512, for AVX2 and for
//! baseline x86-64 (what the crate builds for), the widest copy the CPU has
//! picked at run time.
//!
//! The copies share one `#[inline(always)]` body, so they run the same
//! operations in the same order (Rust never fuses a multiply and an add on
//! its own): every copy computes the same bits, the wide ones just do more
//! elements per instruction where LLVM vectorises. The engine's step and
//! the bootstraps of `stats/` use it. Imports nothing from the crate.

/// `fn $name(args) -> ret` that calls `$body(args)` in the copy compiled
/// for the widest vector unit of this CPU; the wide copies are `$avx512`
/// and `$avx2` (x86-64 only), named so tests can compare them. `$body`
/// must be `#[inline(always)]`, or the wide copies would call the baseline
/// one.
macro_rules! compiled_for_cpu {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?
            => $body:ident, $avx512:ident, $avx2:ident
    ) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has the feature this copy was compiled for.
                    return unsafe { $avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: as above.
                    return unsafe { $avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        $vis fn $avx512($($arg: $ty),*) $(-> $ret)? {
            $body($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        $vis fn $avx2($($arg: $ty),*) $(-> $ret)? {
            $body($($arg),*)
        }
    };
}

pub(crate) use compiled_for_cpu;
