//! Microsoft Azure backend. (Not built yet.)
