/* The workspace's small script: lease countdowns, the surfaces' keys, and the task
   type's own schema and rules checked before a result is sent (the server checks them
   again: its answer is the truth). Without it every page still works by its fields. */
(function () {
  "use strict";

  /* Leases: the server's seconds left, counted down from the page's load (the browser's
     clock may differ from the server's), written as hours:minutes. */
  function startLeases() {
    const leases = document.querySelectorAll(".lease[data-seconds-left]");
    if (!leases.length) return;
    const loaded = performance.now();
    function tick() {
      const elapsed = Math.floor((performance.now() - loaded) / 1000);
      leases.forEach(function (lease) {
        const left = Math.max(0, Number(lease.dataset.secondsLeft) - elapsed);
        const time = lease.querySelector(".lease-left");
        if (left === 0) {
          if (!lease.classList.contains("is-ended")) {
            lease.classList.add("is-ended");
            lease.textContent = lease.dataset.ended;
          }
          return;
        }
        const minutes = Math.ceil(left / 60);
        const text = Math.floor(minutes / 60) + ":" + String(minutes % 60).padStart(2, "0");
        if (time && time.textContent !== text) {
          time.textContent = text; /* once a minute: the live region speaks no more often */
          time.setAttribute("datetime", "PT" + Math.floor(minutes / 60) + "H" + (minutes % 60) + "M");
        }
      });
    }
    setInterval(tick, 1000);
  }

  /* ---- The rule language of task types (orders/result_rules.py), evaluated here. ---- */

  function varOf(path, context) {
    let value = context;
    for (const key of String(path).split(".")) {
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        value = value[key];
      } else if (Array.isArray(value) && /^\d+$/.test(key) && Number(key) < value.length) {
        value = value[Number(key)];
      } else {
        return null;
      }
    }
    return value === undefined ? null : value;
  }

  function comparable(a, b) {
    /* Python refuses to order a number and a text, or None: the rule is then broken. */
    const kind = function (v) { return typeof v === "boolean" ? "number" : typeof v; };
    if (a === null || b === null || kind(a) !== kind(b)) throw new TypeError("not comparable");
  }
  function numbers(values) {
    values.forEach(function (v) { if (typeof v !== "number") throw new TypeError("numbers only"); });
    return values;
  }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  const OPERATORS = {
    "==": function (a, b) { return same(a, b); },
    "!=": function (a, b) { return !same(a, b); },
    "<": function (a, b) { comparable(a, b); return a < b; },
    "<=": function (a, b) { comparable(a, b); return a <= b; },
    ">": function (a, b) { comparable(a, b); return a > b; },
    ">=": function (a, b) { comparable(a, b); return a >= b; },
    "+": function () { return numbers([].slice.call(arguments)).reduce(function (s, v) { return s + v; }, 0); },
    "-": function (a, b) { numbers([a, b]); return a - b; },
    "*": function () { return numbers([].slice.call(arguments)).reduce(function (s, v) { return s * v; }, 1); },
    "!": function (a) { return !truthy(a); },
    "in": function (v, container) {
      if (typeof container === "string") return container.indexOf(v) >= 0;
      if (!Array.isArray(container)) throw new TypeError("not a container");
      return container.some(function (c) { return same(c, v); });
    },
    "count": function (v) {
      if (v === null || typeof v !== "object") throw new TypeError("no length");
      return Array.isArray(v) ? v.length : Object.keys(v).length;
    },
  };
  function truthy(v) {
    return !(v === null || v === false || v === 0 || v === "" ||
      (Array.isArray(v) && v.length === 0) ||
      (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0));
  }

  function evaluate(expression, context) {
    if (Array.isArray(expression)) return expression.map(function (e) { return evaluate(e, context); });
    if (expression === null || typeof expression !== "object") return expression;
    const op = Object.keys(expression)[0];
    let args = expression[op];
    if (op === "var") {
      const pair = Array.isArray(args) ? args.concat([null]).slice(0, 2) : [args, null];
      const found = varOf(pair[0], context);
      return found === null ? pair[1] : found;
    }
    args = Array.isArray(args) ? args : [args];
    if (op === "and") return args.every(function (a) { return truthy(evaluate(a, context)); });
    if (op === "or") return args.some(function (a) { return truthy(evaluate(a, context)); });
    return OPERATORS[op].apply(null, args.map(function (a) { return evaluate(a, context); }));
  }

  function holds(rule, context) {
    try {
      if ("when" in rule && !truthy(evaluate(rule.when, context))) return true;
      return truthy(evaluate(rule.require, context));
    } catch (e) {
      return false;
    }
  }

  /* The first rule broken, and the index of its list's element (as broken_rule). */
  function brokenRule(rules, context) {
    for (const rule of rules) {
      if ("each" in rule) {
        const elements = varOf(rule.each, context);
        if (!Array.isArray(elements)) continue;
        for (let i = 0; i < elements.length; i++) {
          const inner = Object.assign({}, context, { it: elements[i] });
          if (!holds(rule, inner)) return { rule: rule, index: i };
        }
      } else if (!holds(rule, context)) {
        return { rule: rule, index: null };
      }
    }
    return null;
  }

  /* The field a rule speaks of, as pages/surfaces.py places the server's answer. */
  function ruleField(rule, index, result) {
    if ("each" in rule) {
      const base = rule.each.replace(/^result\./, "");
      const element = index === null ? null : varOf(base + "." + index, result);
      return element !== null && typeof element === "object" && !Array.isArray(element)
        ? base + "." + index : base;
    }
    const read = JSON.stringify(rule.require).match(/"var":\[?"result\.([A-Za-z0-9_.]+)"/);
    return read ? read[1] : "";
  }

  /* ---- A small JSON Schema check: the keywords result schemas use. ---- */

  function typeOk(type, v) {
    switch (type) {
      case "object": return v !== null && typeof v === "object" && !Array.isArray(v);
      case "array": return Array.isArray(v);
      case "integer": return typeof v === "number" && Number.isInteger(v);
      case "number": return typeof v === "number";
      case "string": return typeof v === "string";
      case "boolean": return typeof v === "boolean";
      case "null": return v === null;
      default: return true;
    }
  }

  function schemaProblem(schema, value, path) {
    if (!schema || typeof schema !== "object") return null;
    const at = function (keyword, where) { return { path: where === undefined ? path : where, keyword: keyword }; };
    if (schema.type) {
      const types = Array.isArray(schema.type) ? schema.type : [schema.type];
      if (!types.some(function (t) { return typeOk(t, value); })) return at("type");
    }
    if (schema.enum && !schema.enum.some(function (e) { return same(e, value); })) return at("enum");
    if (typeof value === "number") {
      if ("minimum" in schema && value < schema.minimum) return at("minimum");
      if ("maximum" in schema && value > schema.maximum) return at("maximum");
      if ("exclusiveMinimum" in schema && value <= schema.exclusiveMinimum) return at("exclusiveMinimum");
      if ("exclusiveMaximum" in schema && value >= schema.exclusiveMaximum) return at("exclusiveMaximum");
    }
    if (typeof value === "string") {
      if ("maxLength" in schema && value.length > schema.maxLength) return at("maxLength");
      if ("minLength" in schema && value.length < schema.minLength) return at("minLength");
    }
    if (Array.isArray(value)) {
      if ("maxItems" in schema && value.length > schema.maxItems) return at("maxItems");
      if ("minItems" in schema && value.length < schema.minItems) return at("minItems");
      for (let i = 0; i < value.length; i++) {
        const inner = schemaProblem(schema.items, value[i], path.concat([i]));
        if (inner) return inner;
      }
    }
    if (typeOk("object", value)) {
      for (const name of schema.required || []) {
        if (!(name in value)) return at("required", path.concat([name]));
      }
      const properties = schema.properties || {};
      for (const name of Object.keys(value)) {
        if (name in properties) {
          const inner = schemaProblem(properties[name], value[name], path.concat([name]));
          if (inner) return inner;
        } else if (schema.additionalProperties === false) {
          return at("additionalProperties");
        }
      }
    }
    return null;
  }

  /* ---- The result a surface's fields make (as pages/surfaces.py reads them). ---- */

  function number(text) {
    if (text === null || text === undefined || String(text).trim() === "") return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }

  function boxesOf(form) {
    const rows = {};
    form.querySelectorAll("input[name^='boxes.']").forEach(function (input) {
      const found = input.name.match(/^boxes\.(\d+)\.(x|y|w|h|label)$/);
      if (found) (rows[found[1]] = rows[found[1]] || {})[found[2]] = input.value;
    });
    return Object.keys(rows).map(Number).sort(function (a, b) { return a - b; }).map(function (i) {
      return rows[i];
    }).filter(function (row) {
      return Object.values(row).some(function (v) { return String(v).trim() !== ""; });
    }).map(function (row) {
      const box = {};
      ["x", "y", "w", "h"].forEach(function (k) { const v = number(row[k]); if (v !== undefined) box[k] = v; });
      if (row.label && row.label.trim()) box.label = row.label.trim();
      return box;
    });
  }

  function buildResult(form, submitter) {
    const data = new FormData(form);
    const kind = form.dataset.taskType;
    if (kind === "bbox_2d") return { boxes: boxesOf(form) };
    if (kind === "rating_1_5") {
      const result = {};
      const rating = number(data.get("rating"));
      if (rating !== undefined) result.rating = rating;
      const types = data.getAll("error_types");
      if (types.length) result.error_types = types;
      const comment = (data.get("comment") || "").trim();
      if (comment) result.comment = comment;
      return result;
    }
    if (kind === "audio_score_0_2") {
      const score = number(submitter && submitter.name === "score" ? submitter.value : data.get("score"));
      return score === undefined ? {} : { score: score };
    }
    return genericResult(form, data);
  }

  function genericResult(form, data) {
    const schema = JSON.parse(form.dataset.schema);
    const result = {};
    Object.entries(schema.properties || {}).forEach(function (entry) {
      const name = entry[0], spec = entry[1] || {};
      const choices = spec.enum || (spec.items && spec.items.enum) || [];
      const asText = function (c) { return typeof c === "string" ? c : JSON.stringify(c); };
      const pick = function (raw) {
        const found = choices.find(function (c) { return asText(c) === raw; });
        return found === undefined ? raw : found;
      };
      const raw = (data.get(name) || "").toString();
      if ("enum" in spec) { if (raw.trim()) result[name] = pick(raw); }
      else if (spec.type === "boolean") result[name] = data.has(name);
      else if (spec.type === "array" && spec.items && spec.items.enum) result[name] = data.getAll(name).map(pick);
      else if (!raw.trim()) return;
      else if (spec.type === "integer" || spec.type === "number") result[name] = number(raw);
      else if (spec.type === "string") result[name] = raw;
      else { try { result[name] = JSON.parse(raw); } catch (e) { result[name] = raw; } }
    });
    return result;
  }

  /* ---- Errors beside their fields. ---- */

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (slot) { slot.hidden = true; slot.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
  }

  function showError(form, field, message) {
    let slot = form.querySelector("[data-error-for='" + CSS.escape(field) + "']");
    if (!slot) slot = form.querySelector("[data-error-for='']");
    slot.textContent = message;
    slot.hidden = false;
    const named = form.querySelector("[name='" + CSS.escape(field) + "']");
    const group = slot.closest("fieldset");
    const target = named || (group && group.querySelector("input, button")) || slot;
    if (named) {
      named.setAttribute("aria-invalid", "true");
      named.setAttribute("aria-describedby", slot.id);
    }
    if (target.focus) {
      if (target === slot) slot.setAttribute("tabindex", "-1");
      target.focus();
    }
  }

  function check(form, result) {
    const words = JSON.parse(form.dataset.schemaWords);
    const problem = schemaProblem(JSON.parse(form.dataset.schema), result, []);
    if (problem) return { field: problem.path.join("."), message: words[problem.keyword] || words.type };
    const context = {
      result: result,
      item: JSON.parse(form.dataset.item),
      order: JSON.parse(form.dataset.options),
    };
    const broken = brokenRule(JSON.parse(form.dataset.rules), context);
    if (!broken) return null;
    const messages = JSON.parse(form.dataset.ruleMessages);
    return { field: ruleField(broken.rule, broken.index, result), message: messages[broken.rule.name] };
  }

  /* ---- The work form: its keys, and the check before it is sent. ---- */

  function typing(target) {
    return target.matches("textarea, input[type=text], input[type=number], input:not([type]), select");
  }

  function startWorkForm(form) {
    const kind = form.dataset.taskType;
    form.addEventListener("submit", function (event) {
      const result = buildResult(form, event.submitter);
      clearErrors(form);
      const problem = check(form, result);
      if (problem) {
        event.preventDefault();
        showError(form, problem.field, problem.message);
        return;
      }
      form.elements.result.value = JSON.stringify(result);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      if (event.target.closest && event.target.closest(".bbox-svg, .skip-form, header")) return;
      if (kind === "rating_1_5" && /^[1-5]$/.test(event.key)) {
        const radio = form.querySelector("input[name=rating][value='" + event.key + "']");
        radio.checked = true;
        radio.focus();
        event.preventDefault();
      } else if (kind === "audio_score_0_2" && /^[0-2]$/.test(event.key)) {
        event.preventDefault();
        form.querySelector("button[name=score][value='" + event.key + "']").click();
      } else if (kind === "audio_score_0_2" && (event.key === "p" || event.key === "P")) {
        const clip = form.querySelector("audio");
        if (clip) { if (clip.paused) clip.play(); else clip.pause(); }
      } else if (event.key === "Enter" && event.target.matches("input[type=radio], input[type=checkbox]")) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    /* What only works with this script (keys, hints of keys) shows once it runs. */
    document.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
    startLeases();
    const form = document.getElementById("work-form");
    if (form) startWorkForm(form);
  });
})();
