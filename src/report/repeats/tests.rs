//! Tests of the repeats summary.
