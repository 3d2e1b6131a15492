//! `clinicdesk user …`: accounts and roles (administrators; managers may list).

use clap::Subcommand;
use clinicdesk_core::{Result, Role, Session};

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Add a user; prints a one-time temporary password as the last line.
    Add {
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
    },
    List,
    Disable {
        username: String,
    },
    /// Enable a disabled user; prints a new temporary password as the last line.
    Enable {
        username: String,
    },
    SetRole {
        username: String,
        role: String,
    },
    /// Give a user a new temporary password (printed as the last line).
    ResetPassword {
        username: String,
    },
}

pub(crate) fn run_user(session: &mut Session, command: UserCommand, out: &Output) -> Result<()> {
    let print_password = |out: &Output,
                          username: &str,
                          password: &clinicdesk_core::TemporaryPassword,
                          what: &str| {
        out.value(serde_json::json!({ "username": username, "temporary_password": password.0.as_str() }), || {
            format!("{what}. Give them this one-time password; they must choose a new one at first login:\n{}", password.0.as_str())
        })
    };
    match command {
        UserCommand::Add {
            username,
            role,
            name,
        } => {
            let password = session.add_user(&username, &name, Role::from_code(&role)?)?;
            print_password(
                out,
                &username,
                &password,
                &format!("Added {username} ({role})"),
            );
        }
        UserCommand::List => {
            let users = session.list_users()?;
            out.value(serde_json::to_value(&users).unwrap_or_default(), || {
                let mut text = format!(
                    "{:<20} {:<28} {:<14} {}\n",
                    "USERNAME", "NAME", "ROLE", "STATE"
                );
                for user in &users {
                    let state = if user.disabled {
                        "disabled".to_owned()
                    } else if let Some(until) = &user.locked_until {
                        format!("locked until {until}")
                    } else if user.must_change_password {
                        "must change password".to_owned()
                    } else {
                        "active".to_owned()
                    };
                    let elsewhere: Vec<String> = user
                        .locked_elsewhere
                        .iter()
                        .map(|lockout| {
                            format!(
                                "; locked on {} until {} (as of the last sync)",
                                clinicdesk_core::visible(&lockout.workstation),
                                lockout.locked_until
                            )
                        })
                        .collect();
                    let state = format!("{state}{}", elsewhere.concat());
                    text.push_str(&format!(
                        "{:<20} {:<28} {:<14} {state}\n",
                        user.username, user.display_name, user.role
                    ));
                }
                text.trim_end().to_owned()
            });
        }
        UserCommand::Disable { username } => {
            session.disable_user(&username)?;
            out.value(serde_json::json!({ "disabled": username }), || {
                format!("Disabled {username}; their password no longer unlocks the store.")
            });
        }
        UserCommand::Enable { username } => {
            let password = session.enable_user(&username)?;
            print_password(out, &username, &password, &format!("Enabled {username}"));
        }
        UserCommand::SetRole { username, role } => {
            session.set_user_role(&username, Role::from_code(&role)?)?;
            out.value(
                serde_json::json!({ "username": username, "role": role }),
                || format!("{username} is now {role}."),
            );
        }
        UserCommand::ResetPassword { username } => {
            let password = session.reset_password(&username)?;
            print_password(
                out,
                &username,
                &password,
                &format!("Reset the password of {username}"),
            );
        }
    }
    Ok(())
}
