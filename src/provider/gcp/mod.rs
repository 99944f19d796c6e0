//! Google Cloud backend. (Not built yet.)
