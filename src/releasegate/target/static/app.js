// The tickets page: create, edit and delete tickets through the JSON API, without reloading.
// Rows built here have the same markup and data-testid attributes as the server-rendered ones.
"use strict";

const STATUSES = ["open", "in_progress", "closed"];

function element(tag, attributes, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function actionButton(action, label) {
  return element("button", { type: "button", "data-action": action, "data-testid": "ticket-" + action }, label);
}

function rowFor(ticket) {
  const row = element("tr", { id: "ticket-" + ticket.id, "data-testid": "ticket-row", "data-ticket-id": String(ticket.id) });
  row.appendChild(element("td", { "data-testid": "ticket-id" }, String(ticket.id)));
  row.appendChild(element("td", { "data-testid": "ticket-title" }, ticket.title));
  row.appendChild(element("td", { "data-testid": "ticket-status" }, ticket.status));
  const actions = element("td", { class: "actions" });
  actions.append(actionButton("edit", "Edit"), " ", actionButton("delete", "Delete"));
  row.appendChild(actions);
  return row;
}

function editorFor(row) {
  // The row in edit mode: title input, status select, Save and Cancel.
  const title = row.querySelector('[data-testid="ticket-title"]').textContent;
  const status = row.querySelector('[data-testid="ticket-status"]').textContent;
  const titleCell = element("td");
  titleCell.appendChild(element("input", { "data-testid": "ticket-title-edit", value: title, maxlength: "200", "aria-label": "Title" }));
  const statusCell = element("td");
  const select = element("select", { "data-testid": "ticket-status-edit", "aria-label": "Status" });
  for (const s of STATUSES) {
    const option = element("option", { value: s }, s.replace("_", " "));
    if (s === status) option.selected = true;
    select.appendChild(option);
  }
  statusCell.appendChild(select);
  const actions = element("td", { class: "actions" });
  actions.append(actionButton("save", "Save"), " ", actionButton("cancel", "Cancel"));
  row.replaceChildren(row.firstElementChild, titleCell, statusCell, actions);
  row.dataset.original = JSON.stringify({ id: Number(row.dataset.ticketId), title, status });
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error((data && data.error) || response.status + " " + response.statusText);
  return data;
}

function say(text) {
  const message = document.getElementById("form-message");
  if (message) message.textContent = text;
}

async function onRowClick(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const row = button.closest("tr");
  const id = row.dataset.ticketId;
  try {
    switch (button.dataset.action) {
      case "delete":
        await api("DELETE", "/api/tickets/" + id);
        row.remove();
        say("Deleted ticket " + id);
        break;
      case "edit":
        editorFor(row);
        break;
      case "cancel":
        row.replaceWith(rowFor(JSON.parse(row.dataset.original)));
        break;
      case "save": {
        const title = row.querySelector('[data-testid="ticket-title-edit"]').value;
        const status = row.querySelector('[data-testid="ticket-status-edit"]').value;
        const ticket = await api("PUT", "/api/tickets/" + id, { title, status });
        row.replaceWith(rowFor(ticket));
        say("Updated ticket " + id);
        break;
      }
    }
  } catch (error) {
    say("Could not change ticket " + id + ": " + error.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("ticket-form");
  const rows = document.getElementById("ticket-rows");
  if (!form || !rows) return;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const title = document.getElementById("ticket-title");
    const status = document.getElementById("ticket-status");
    try {
      const ticket = await api("POST", "/api/tickets", { title: title.value, status: status.value });
      rows.appendChild(rowFor(ticket));
      title.value = "";
      say("Created ticket " + ticket.id);
    } catch (error) {
      say("Could not create the ticket: " + error.message);
    }
  });

  rows.addEventListener("click", onRowClick);
});
