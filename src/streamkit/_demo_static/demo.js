/* The demo chat page (streamkit demo --serve).
 *
 * A conversation is a chain of relay runs: POST /chat starts one (continuing the last
 * run's thread) and answers its run id, which goes into the URL (#run=<id>).
 * StreamkitRelay.connect (streamkit-relay.js) folds each run's events into its state;
 * this file only renders that state. Each run's state and last event id are kept in
 * sessionStorage (together, so they always match): a reload reconnects with that id and
 * the server sends exactly the events after it. A second tab on the same URL has no
 * stored state: it gets the run's snapshot, then the same live events.
 */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var conversation = $("conversation"), statusLine = $("status"), text = $("text");
  var sendButton = $("send"), stopButton = $("stop");
  var turns = [];         /* {runId, text, node, watch, state, lastId, closed} */
  var pending = {};       /* runId -> a render is scheduled */
  var saveTimer = null;

  function hashRun() {
    var m = /^#(?:.*&)?run=([A-Za-z0-9_-]+)/.exec(location.hash);
    return m ? m[1] : null;
  }

  function storageKey(runId) { return "streamkit-demo:" + runId; }

  function load(runId) {
    try {
      var kept = JSON.parse(sessionStorage.getItem(storageKey(runId)) || "null");
      if (kept && kept.state && kept.state.run_id === runId) return kept;
    } catch (e) { /* nothing usable kept */ }
    return null;
  }

  function save() {
    saveTimer = null;
    turns.forEach(function (turn) {
      if (!turn.state || turn.lastId === undefined || turn.lastId === null) return;
      try {
        sessionStorage.setItem(storageKey(turn.runId),
          JSON.stringify({ state: turn.state, lastEventId: turn.lastId }));
      } catch (e) { /* storage full: a reload gets a snapshot instead */ }
    });
  }

  function scheduleSave() { if (saveTimer === null) saveTimer = setTimeout(save, 250); }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined && content !== null) node.textContent = content;
    return node;
  }

  function live(turn) { return !turn.closed && !(turn.state && turn.state.end); }

  function runStatus(turn) {
    var s = turn.state;
    if (turn.gone) return "unknown run (the server forgot it)";
    if (!s) return "connecting";
    if (s.end) return "ended: " + s.end.reason + (s.end.status ? " (run " + s.end.status + ")" : "");
    if (s.requires_action) return "running the tool calls";
    return s.run ? s.run.status : "starting";
  }

  function renderCall(call) {
    var box = el("div", "call" + (call.done ? " done" : ""));
    box.dataset.key = call.key;
    var head = el("div", "call-head");
    head.appendChild(el("span", "kind", call.kind.replace(/_call$/, "").replace(/_/g, " ")));
    head.appendChild(el("span", "name", call.name || (call.kind === "function" ? "…" : "")));
    var settled = call.done || call.output !== null;
    /* a hosted tool says what it is doing (searching, interpreting, ...) */
    head.appendChild(el("span", "badge", settled ? "done" : (call.status || "running")));
    box.appendChild(head);
    if (call.arguments) box.appendChild(el("pre", "args", call.arguments));
    if (call.output !== null && call.output !== undefined && call.output !== "") {
      box.appendChild(el("pre", "output", call.output));
    }
    (call.outputs || []).forEach(function (o) {
      if (o.type === "logs") box.appendChild(el("pre", "logs", o.logs));
      else if (o.type === "image" && (o.url || o.b64)) {
        var img = el("img", "image" + (o.partial !== null ? " partial" : ""));
        img.alt = "image output";
        img.src = o.url || "data:image/png;base64," + o.b64;
        box.appendChild(img);
      } else if (o.type === "image") box.appendChild(el("div", "file", "image " + o.file_id));
    });
    if (call.results && call.results.length) {
      var list = box.appendChild(el("ul", "results"));
      call.results.forEach(function (r) {
        var item = list.appendChild(el("li", null, r.file_name || r.file_id));
        if (typeof r.score === "number") item.appendChild(el("span", "score", r.score.toFixed(2)));
      });
    }
    return box;
  }

  function renderReasoning(r) {
    var box = el("details", "reasoning" + (r.done ? "" : " streaming"));
    box.open = !r.done; /* open while it thinks, folded once done */
    box.appendChild(el("summary", null, r.done ? "reasoning" : "reasoning…"));
    r.summary.concat(r.text).forEach(function (t) { if (t) box.appendChild(el("p", null, t)); });
    return box;
  }

  function render(turn) {
    delete pending[turn.runId];
    var s = turn.state, body = turn.node.querySelector(".assistant");
    body.textContent = "";
    if (s) {
      (s.reasoning || []).forEach(function (r) { body.appendChild(renderReasoning(r)); });
      if (s.tool_calls.length) {
        var calls = body.appendChild(el("div", "calls"));
        s.tool_calls.forEach(function (call) { calls.appendChild(renderCall(call)); });
      }
      s.messages.forEach(function (m) {
        m.parts.forEach(function (p) {
          var part = el("div", "part " + p.kind + (m.status === "in_progress" ? " streaming" : ""),
                        p.text || "");
          part.dataset.part = m.id;
          body.appendChild(part);
        });
      });
      s.errors.forEach(function (e) { body.appendChild(el("div", "error", e.code + ": " + e.message)); });
    }
    var status = turn.node.querySelector(".run-status");
    status.textContent = runStatus(turn);
    turn.node.dataset.status = s && s.end ? s.end.reason : (turn.gone ? "gone" : "live");
    turn.node.dataset.lastEventId = turn.lastId === undefined || turn.lastId === null ? "" : turn.lastId;
    if (turn === turns[turns.length - 1]) {
      statusLine.textContent = "run " + turn.runId + ": " + runStatus(turn);
      stopButton.disabled = !live(turn) || !!turn.gone;
      sendButton.disabled = live(turn) && !turn.gone;
      conversation.scrollTop = conversation.scrollHeight;
    }
  }

  function scheduleRender(turn) {
    if (pending[turn.runId]) return;
    pending[turn.runId] = true;
    setTimeout(function () { render(turn); }, 16); /* timers run in background tabs too */
  }

  function addTurn(runId, userText) {
    $("empty").hidden = true;
    $("examples").hidden = true;
    var node = el("section", "turn");
    node.dataset.run = runId;
    node.appendChild(el("div", "user", userText));
    node.appendChild(el("div", "assistant"));
    node.appendChild(el("div", "run-status"));
    conversation.appendChild(node);
    var turn = { runId: runId, text: userText, node: node, watch: null, state: null,
                 lastId: null, closed: false, gone: false };
    turns.push(turn);
    var kept = load(runId);
    if (kept) {
      turn.state = kept.state;
      turn.lastId = kept.lastEventId;
      node.dataset.resumedAfter = kept.lastEventId;
    }
    if (!(turn.state && turn.state.end)) watch(turn);
    render(turn);
    return turn;
  }

  function watch(turn) {
    var options = {
      onState: function (state) {
        turn.state = state;
        turn.lastId = turn.watch ? turn.watch.lastEventId() : turn.lastId;
        scheduleSave();
        scheduleRender(turn);
      },
      onFresh: function () { turn.node.dataset.fresh = "true"; },
      onEnd: function (state) {
        turn.state = state;
        turn.lastId = turn.watch.lastEventId();
        save();
        render(turn);
      },
      onClose: function () {
        turn.closed = true;
        if (!turn.state || !turn.state.end) turn.gone = true; /* 404: a restarted server */
        render(turn);
      },
    };
    if (turn.state) { options.state = turn.state; options.lastEventId = turn.lastId; }
    turn.watch = StreamkitRelay.connect("/relay/runs/" + encodeURIComponent(turn.runId) + "/events", options);
  }

  function clear() {
    turns.forEach(function (turn) { if (turn.watch) turn.watch.close(); });
    turns = [];
    Array.prototype.slice.call(conversation.querySelectorAll(".turn")).forEach(function (n) { n.remove(); });
    $("empty").hidden = false;
    $("examples").hidden = false;
    statusLine.textContent = "no run yet";
    stopButton.disabled = true;
    sendButton.disabled = false;
  }

  function show(runId) {
    clear();
    if (!runId) return;
    statusLine.textContent = "loading run " + runId;
    fetch("/chat/" + encodeURIComponent(runId)).then(function (answer) {
      if (!answer.ok) throw new Error("unknown run " + runId + " (the demo forgets on restart)");
      return answer.json();
    }).then(function (body) {
      body.turns.forEach(function (t) { addTurn(t.run_id, t.text); });
    }).catch(function (error) { statusLine.textContent = String(error.message || error); });
  }

  function send(message) {
    message = message.trim();
    if (!message) return;
    var last = turns.length ? turns[turns.length - 1].runId : null;
    sendButton.disabled = true;
    fetch("/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(last ? { text: message, after: last } : { text: message }),
    }).then(function (answer) {
      return answer.json().then(function (body) {
        if (!answer.ok) throw new Error(body.error ? body.error.message : answer.statusText);
        return body;
      });
    }).then(function (body) {
      text.value = "";
      history.replaceState(null, "", "#run=" + body.run_id);
      addTurn(body.run_id, message);
    }).catch(function (error) {
      sendButton.disabled = false;
      statusLine.textContent = "could not send: " + (error.message || error);
    });
  }

  $("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!sendButton.disabled) send(text.value);
  });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      if (!sendButton.disabled) send(text.value);
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll(".example"), function (button) {
    button.addEventListener("click", function () { text.value = button.textContent; text.focus(); });
  });
  stopButton.addEventListener("click", function () {
    var turn = turns[turns.length - 1];
    if (!turn) return;
    stopButton.disabled = true;
    statusLine.textContent = "run " + turn.runId + ": stopping";
    fetch("/relay/runs/" + encodeURIComponent(turn.runId) + "/stop", { method: "POST" })
      .catch(function (error) { statusLine.textContent = "could not stop: " + error; });
  });
  window.addEventListener("pagehide", save);
  window.addEventListener("hashchange", function () {
    var runId = hashRun();
    var last = turns.length ? turns[turns.length - 1].runId : null;
    if (runId !== last) show(runId);
  });

  /* For tests and the curious: each run's folded state, as the server's snapshot has it. */
  window.streamkitDemo = {
    state: function (runId) {
      for (var i = 0; i < turns.length; i++) if (turns[i].runId === runId) return turns[i].state;
      return null;
    },
    runs: function () { return turns.map(function (t) { return t.runId; }); },
  };

  show(hashRun());
})();
