//! Integration tests of anbao-feeds: imports from files, folders and HTTP into a real store, exports, the live index.

mod feeds;
