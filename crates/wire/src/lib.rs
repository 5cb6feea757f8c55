//! The JSON shapes of the native API: request bodies (strict: unknown fields are refused) and views.

pub mod requests;
pub mod views;

pub use requests::*;
pub use views::*;
