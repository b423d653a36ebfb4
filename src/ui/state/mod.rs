//! What the screen shows besides the model: the view state and its
//! intents, the dialogs' data, the temporary network and GPU views, the
//! screen layout, and the settings kept in the config file.
//! Nothing here knows about keys or drawing.

pub mod dialog;
pub mod dialogs;
pub mod exitview;
pub mod folds;
pub mod gpuview;
pub mod keymap;
pub mod layout;
pub mod netview;
pub mod options;
pub mod overlay;
pub mod panel;
pub mod screen_settings;
pub mod screens;
pub mod search;
pub mod selection;
pub mod settings;
pub mod sideways;
pub mod sorting;
pub mod statusline;
pub mod temporary;
pub mod tuning;
pub mod unitview;
pub mod view;
