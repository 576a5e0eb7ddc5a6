//! repo (to be written).
