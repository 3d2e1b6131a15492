import { showFatal } from "./fatal";
import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";

try {
  mount(App, { target: document.getElementById("app")! });
} catch (error) {
  showFatal(String(error));
}
