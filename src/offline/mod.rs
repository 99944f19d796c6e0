//! The local emulator behind `updraft offline`: HTTP, schedule, queue and storage triggers running
//! real function code through the Lambda Runtime API. (Not built yet.)
