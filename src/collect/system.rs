//! System-wide statistics (work in progress).
