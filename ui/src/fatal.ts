// Loaded before everything else, so even a fault while the UI's modules load is shown to the
// person instead of a blank window.
export function showFatal(message: string) {
  const box = document.createElement("div");
  box.setAttribute("role", "alert");
  box.style.cssText = "max-width:640px;margin:60px auto;padding:24px;background:white;border-radius:12px;font-family:system-ui;color:#b91c1c";
  box.textContent = `Clinicdesk hit an unexpected problem and could not show this screen: ${message}. Your records are safe. Close and reopen Clinicdesk; if it happens again, tell your administrator.`;
  document.body.replaceChildren(box);
}

window.addEventListener("error", (event) => showFatal(`${event.message} (${event.filename}:${event.lineno})`));
window.addEventListener("unhandledrejection", (event) => console.error(event.reason));

// WebKit reports the process locale as the language; on a machine without one that is "C",
// which is not a language tag, and date formatting throws. Fall back to a valid one.
try {
  new Intl.DateTimeFormat(navigator.language);
} catch {
  Object.defineProperty(navigator, "language", { get: () => "en-GB" });
  Object.defineProperty(navigator, "languages", { get: () => ["en-GB"] });
}
