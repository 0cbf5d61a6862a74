/* Mosaic CRM — pipeline board. Progressive enhancement only: every card also has a plain
   "Move" form that works without JavaScript and with the keyboard.
   Drag a card onto another column: it is moved through the JSON API (session + CSRF header,
   If-Match with the card's version). A lost column asks for the reason on the opportunity's
   page; any refusal (approval needed, changed meanwhile) is announced and the board reloads. */
(function () {
  "use strict";

  function announce(text) {
    var status = document.getElementById("board-status");
    if (status) { status.textContent = text; }
  }

  function move(board, card, column) {
    var id = card.getAttribute("data-id");
    var stage = column.getAttribute("data-stage");
    if (column.getAttribute("data-kind") === "lost") {
      window.location.href = "/pipeline/opportunities/" + id + "?stage=lost#move";
      return;
    }
    var request = new XMLHttpRequest();
    request.open("POST", "/api/v1/pipeline/opportunities/" + id + "/move");
    request.setRequestHeader("Content-Type", "application/json");
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-CSRF-Token", board.getAttribute("data-csrf"));
    request.setRequestHeader("If-Match", 'W/"' + card.getAttribute("data-version") + '"');
    request.onload = function () {
      if (request.status >= 200 && request.status < 300) {
        window.location.reload();
        return;
      }
      var detail = "";
      try { detail = JSON.parse(request.responseText).detail || ""; } catch (e) { detail = ""; }
      announce(board.getAttribute("data-msg-failed") + " " + detail);
      window.setTimeout(function () {
        window.location.href = "/pipeline/opportunities/" + id + "#move";
      }, 1500);
    };
    request.send(JSON.stringify({ stage: stage }));
  }

  function setUp(board) {
    var dragged = null;
    board.querySelectorAll(".opp-card[draggable]").forEach(function (card) {
      card.addEventListener("dragstart", function (event) {
        dragged = card;
        card.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
      });
      card.addEventListener("dragend", function () {
        card.classList.remove("dragging");
      });
    });
    board.querySelectorAll(".board-col").forEach(function (column) {
      column.addEventListener("dragover", function (event) {
        if (dragged) { event.preventDefault(); column.classList.add("drop-target"); }
      });
      column.addEventListener("dragleave", function () { column.classList.remove("drop-target"); });
      column.addEventListener("drop", function (event) {
        event.preventDefault();
        column.classList.remove("drop-target");
        if (!dragged || dragged.closest(".board-col") === column) { return; }
        var card = dragged;
        dragged = null;
        column.querySelector(".cards").appendChild(card);
        move(board, card, column);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".board[data-csrf]").forEach(setUp);
  });
}());
