// The tickets page: create, edit and delete through the JSON API, without reloading.
"use strict";

function rowFor(ticket) {
  const row = document.createElement("tr");
  row.dataset.testid = "ticket-row";
  row.setAttribute("data-testid", "ticket-row");
  row.dataset.ticketId = String(ticket.id);
  const cells = [
    [String(ticket.id), null],
    [ticket.title, "ticket-title"],
    [ticket.status, "ticket-status"],
  ];
  for (const [text, testid] of cells) {
    const cell = document.createElement("td");
    cell.textContent = text;
    if (testid) cell.setAttribute("data-testid", testid);
    row.appendChild(cell);
  }
  const actions = document.createElement("td");
  for (const [label, action] of [["Edit", "edit"], ["Delete", "delete"]]) {
    const button = document.createElement("button");
    button.textContent = label;
    button.dataset.action = action;
    button.setAttribute("data-testid", "ticket-" + action);
    actions.appendChild(button);
    actions.appendChild(document.createTextNode(" "));
  }
  row.appendChild(actions);
  return row;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error((data && data.error) || response.statusText);
  return data;
}

function say(text) {
  const message = document.getElementById("form-message");
  if (message) message.textContent = text;
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("ticket-form");
  const rows = document.getElementById("ticket-rows");
  if (!form || !rows) return;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("ticket-title");
    try {
      const ticket = await api("POST", "/api/tickets", { title: input.value });
      rows.appendChild(rowFor(ticket));
      input.value = "";
      say("Created ticket " + ticket.id);
    } catch (error) {
      say("Could not create the ticket: " + error.message);
    }
  });

  rows.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tr");
    const id = row.dataset.ticketId;
    try {
      if (button.dataset.action === "delete") {
        await api("DELETE", "/api/tickets/" + id);
        row.remove();
        say("Deleted ticket " + id);
      } else {
        const title = window.prompt("New title", row.children[1].textContent);
        if (title === null) return;
        const ticket = await api("PATCH", "/api/tickets/" + id, { title });
        row.replaceWith(rowFor(ticket));
        say("Updated ticket " + id);
      }
    } catch (error) {
      say("Could not change the ticket: " + error.message);
    }
  });
});
