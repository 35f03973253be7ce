/* streamkit-relay.js: the browser side of streamkit's relay (wire format v1).
 *
 * No dependencies. fold(state, event) folds one relay event into a run's state (the
 * same shape as the server's snapshot: docs/relay.md); connect(url, options) opens an
 * EventSource on GET .../runs/{run_id}/events and calls options.onState(state, event)
 * after every event. EventSource sends Last-Event-ID itself when it reconnects, and the
 * server resumes exactly after it; a snapshot (the first event, or one flagged `fresh`
 * when the server no longer held the missed events) replaces the state. On `end` the
 * connection is closed (so the browser does not reconnect).
 * Tool calls carry what the tool produced (outputs, results) and a hosted tool's status;
 * reasoning items (summary and text parts) are a list of their own.
 * Keep fold() in step with RunView in streamkit/relay/_wire.py (tests compare them).
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.StreamkitRelay = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";
  var VERSION = 1;

  function emptyState(runId) {
    return { run_id: runId, run: null, messages: [], tool_calls: [], reasoning: [],
             requires_action: null, errors: [], end: null };
  }

  function message(state, id) {
    for (var i = 0; i < state.messages.length; i++) {
      if (state.messages[i].id === id) return state.messages[i];
    }
    var m = { id: id, role: "assistant", status: "in_progress", parts: [] };
    state.messages.push(m);
    return m;
  }

  function part(state, messageId, index) {
    var parts = message(state, messageId).parts;
    while (parts.length <= index) parts.push({ kind: "text", text: "" });
    return parts[index];
  }

  function call(state, key) {
    for (var i = 0; i < state.tool_calls.length; i++) {
      if (state.tool_calls[i].key === key) return state.tool_calls[i];
    }
    var c = { key: key, id: null, step_id: key.slice(0, key.lastIndexOf("/")),
              kind: "function", name: null, arguments: "", output: null, done: false,
              status: null, outputs: [], results: [] };
    state.tool_calls.push(c);
    return c;
  }

  function reasoning(state, id) {
    if (!state.reasoning) state.reasoning = []; /* a snapshot of an older server */
    for (var i = 0; i < state.reasoning.length; i++) {
      if (state.reasoning[i].id === id) return state.reasoning[i];
    }
    var r = { id: id, status: "in_progress", summary: [], text: [], done: false };
    state.reasoning.push(r);
    return r;
  }

  /* A snapshot of an older server lacks the fields added since: give them. */
  function upgrade(state) {
    if (!state.reasoning) state.reasoning = [];
    state.tool_calls.forEach(function (c) {
      if (c.status === undefined) c.status = null;
      if (!c.outputs) c.outputs = [];
      if (!c.results) c.results = [];
    });
    return state;
  }

  /* Fold one event into state (changed in place and returned); a snapshot returns a
   * new state. Events of an unknown type are ignored. */
  function fold(state, e) {
    if (e.type === "snapshot") return upgrade(JSON.parse(JSON.stringify(e.state)));
    if (!state) throw new Error("streamkit-relay: a " + e.type + " event before any snapshot");
    var p, c, r, list;
    switch (e.type) {
      case "text.delta":
        p = part(state, e.message_id, e.index);
        p.text = e.replace ? e.text : p.text + e.text;
        break;
      case "tool_call.delta":
        c = call(state, e.key);
        c.arguments = e.replace ? e.text : c.arguments + e.text;
        break;
      case "run.status":
        state.run = e.run;
        if (e.run.status !== "requires_action") state.requires_action = null;
        break;
      case "message.created":
        message(state, e.message_id).role = e.role;
        break;
      case "part.created":
        part(state, e.message_id, e.index).kind = e.kind;
        break;
      case "message.done":
        message(state, e.message_id).status = e.status;
        break;
      case "tool_call.created":
        c = call(state, e.key);
        c.id = e.id; c.step_id = e.step_id; c.kind = e.kind; c.name = e.name;
        break;
      case "tool_call.done":
        c = call(state, e.key);
        c.id = e.id; c.name = e.name; c.output = e.output; c.done = true;
        break;
      case "tool_call.output":
        call(state, e.key).output = e.output;
        break;
      case "tool_call.outputs":
        c = call(state, e.key);
        c.outputs = c.outputs.slice(0, e.index).concat(e.outputs);
        break;
      case "tool_call.results":
        c = call(state, e.key);
        c.results = c.results.slice(0, e.index).concat(e.results);
        break;
      case "tool_call.status":
        call(state, e.key).status = e.status;
        break;
      case "reasoning.created":
        reasoning(state, e.id);
        break;
      case "reasoning.delta":
        if (e.kind !== "summary" && e.kind !== "text") break;
        list = reasoning(state, e.id)[e.kind];
        while (list.length <= e.index) list.push("");
        list[e.index] = e.replace ? e.text : list[e.index] + e.text;
        break;
      case "reasoning.done":
        r = reasoning(state, e.id);
        r.status = e.status; r.done = true;
        break;
      case "requires_action":
        state.requires_action = e.tool_calls;
        break;
      case "error":
        state.errors.push({ code: e.code, message: e.message });
        break;
      case "end":
        state.end = { reason: e.reason, status: e.status };
        break;
      default:
        break; /* a later version's event */
    }
    return state;
  }

  /* Watch a run. options: onState(state, event), onFresh(state) (a resume came too late:
   * the state was replaced by a fresh snapshot), onEnd(state), onClose() (the server
   * refused or has nothing more: 204 / 404), state and lastEventId (continue a state
   * kept across a page reload). Returns {close(), state(), lastEventId()}. */
  function connect(url, options) {
    options = options || {};
    var state = options.state || null;
    var lastId = options.lastEventId;
    if (lastId !== undefined && lastId !== null) {
      url += (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(lastId);
    }
    var source = new EventSource(url, { withCredentials: !!options.withCredentials });
    source.onmessage = function (message) {
      var e = JSON.parse(message.data);
      if (e.v !== VERSION && e.type === "snapshot") {
        source.close();
        throw new Error("streamkit-relay: wire format v" + e.v + ", this client reads v1");
      }
      state = fold(state, e);
      lastId = message.lastEventId;
      if (e.type === "snapshot" && e.fresh && options.onFresh) options.onFresh(state);
      if (options.onState) options.onState(state, e);
      if (e.type === "end") {
        source.close();
        if (options.onEnd) options.onEnd(state);
      }
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED && options.onClose) options.onClose();
    };
    return {
      close: function () { source.close(); },
      state: function () { return state; },
      lastEventId: function () { return lastId; },
    };
  }

  return { VERSION: VERSION, emptyState: emptyState, fold: fold, connect: connect };
});
