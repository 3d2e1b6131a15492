// Clinicdesk's interim window: log in and see the store's status. Errors arrive as {code, message}.
const invoke = window.__TAURI__.core.invoke;
const show = (id) => {
  for (const section of ["no-store", "login", "status"]) document.getElementById(section).hidden = section !== id;
};
const text = (id, value) => { document.getElementById(id).textContent = value; };

async function start() {
  const overview = await invoke("store_overview");
  text("clinic", overview.clinic_name ?? "");
  if (!overview.initialized) {
    text("folder-empty", overview.data_folder);
    text("init-command", `clinicdesk init --data-dir "${overview.data_folder}" --clinic-name "Your Clinic" --admin admin`);
    show("no-store");
    return;
  }
  show("login");
  document.getElementById("username").focus();
}

async function loadStatus(user) {
  const status = await invoke("store_status");
  text("signed-in", `Signed in as ${user.display_name} (${user.role.replace("_", " ")})`);
  const list = document.getElementById("status-list");
  list.replaceChildren();
  const rows = [
    ["Store", status.store_path],
    ["Schema version", `${status.schema_version} of ${status.latest_schema_version}`],
    ["Clinic", `${status.clinic_name} (${status.clinic_time_zone})`],
    ...status.counts.map(([label, count]) => [label[0].toUpperCase() + label.slice(1), String(count)]),
  ];
  for (const [label, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  show("status");
}

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("login-button");
  const username = document.getElementById("username").value.trim();
  const password = document.getElementById("password").value;
  text("login-error", "");
  if (!username || !password) {
    text("login-error", "Enter your username and password.");
    return;
  }
  button.disabled = true;
  button.textContent = "Unlocking…";
  try {
    const user = await invoke("login", { username, password });
    document.getElementById("password").value = "";
    await loadStatus(user);
  } catch (error) {
    text("login-error", error.code === "password_change_required"
      ? "You are using a temporary password. Choose a new one with: clinicdesk passwd --as " + username
      : error.message ?? String(error));
  } finally {
    button.disabled = false;
    button.textContent = "Log in";
  }
});

document.getElementById("logoff-button").addEventListener("click", async () => {
  await invoke("logoff");
  show("login");
  document.getElementById("username").focus();
});

start().catch((error) => {
  text("login-error", error.message ?? String(error));
  show("login");
});
