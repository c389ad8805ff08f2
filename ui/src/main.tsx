import { render } from "preact";

import { App } from "./components/App";
import { backend, BackendProvider } from "./ipc";
import "./styles.css";

const root = document.getElementById("app");
if (root)
  render(
    <BackendProvider value={backend}>
      <App />
    </BackendProvider>,
    root,
  );
