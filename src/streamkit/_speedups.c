/* streamkit._speedups: the compiled hot path of streamkit.sse.SSEParser.feed.
 *
 * How it works. streamkit/sse.py calls install(SSEParser, ServerSentEvent, python_feed) at
 * import. install() checks that every attribute the fast path touches is a plain object slot
 * (a member descriptor of the class itself) and records its offset; when anything differs
 * (another attrs, another layout) it raises TypeError and sse.py stays pure Python. It
 * returns a method descriptor that sse.py sets as SSEParser.feed.
 *
 * feed(self, data) handles exactly the case of SSEParser._feed_fast: a bytes chunk, after
 * the BOM check, no CR pending, no diagnostics, no error, not closed, whose line ends are
 * all LF or all CRLF (or that has none). It decides this before changing any state; for
 * anything else it calls python_feed(self, data), the pure-Python reference. The common
 * lines (blank, "data: ", "event: ", "id: ", comments) are handled here on the raw bytes;
 * any other line goes to self._field(line, offset, lineno) and every limit error to the
 * Python method that formats and raises it (_fail_line, _fail_event, _check_open), after
 * the state has been written back, so errors and messages are those of the reference.
 * Events are allocated as ServerSentEvent and their six slots stored directly, as the
 * pure-Python path does through _EventSlots.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>

/* -- slot offsets, filled by install() ------------------------------------------------ */

enum {
    P_ERROR, P_CLOSED, P_DIAG, P_STARTED, P_SKIP_LF, P_TAIL, P_TAIL_LEN, P_POS, P_LINENO,
    P_DATA, P_TYPE, P_ID_BUF, P_LAST_ID, P_BLOCK_RETRY, P_BLOCK_OFF, P_BLOCK_LINE,
    P_TYPE_LINE, P_TYPE_VALUE, P_MAX_LINE, P_MAX_EVENT, P_COUNT
};
static const char *const parser_slots[P_COUNT] = {
    "_error", "_closed", "_diag", "_started", "_skip_lf", "_tail", "_tail_len", "_pos",
    "_lineno", "_data", "_type", "_id_buf", "last_event_id", "_block_retry", "_block_off",
    "_block_line", "_type_line", "_type_value", "_max_line", "_max_event",
};
enum { E_EVENT, E_DATA, E_ID, E_RETRY, E_OFFSET, E_LINE, E_COUNT };
static const char *const event_slots[E_COUNT] = {
    "event", "data", "id", "retry", "offset", "line",
};

static Py_ssize_t poff[P_COUNT];
static Py_ssize_t eoff[E_COUNT];
static PyTypeObject *parser_type = NULL;
static PyTypeObject *event_type = NULL;
static PyObject *python_feed = NULL;
static PyObject *str_message, *str_empty, *str_lf;
static PyObject *str_field, *str_fail_line, *str_fail_event, *str_check_open;

#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))
#define PGET(self, i) SLOT(self, poff[i])

/* Store a new reference in a slot (steals `value`). */
static inline void
pset(PyObject *self, int i, PyObject *value)
{
    PyObject *old = PGET(self, i);
    PGET(self, i) = value;
    Py_XDECREF(old);
}

static int
pset_ssize(PyObject *self, int i, Py_ssize_t value)
{
    PyObject *v = PyLong_FromSsize_t(value);
    if (v == NULL) {
        return -1;
    }
    pset(self, i, v);
    return 0;
}

/* Read an int slot; 0 on success, -1 (no exception set) when it is not a small int. */
static int
pget_ssize(PyObject *self, int i, Py_ssize_t *out)
{
    PyObject *v = PGET(self, i);
    if (v == NULL || !PyLong_CheckExact(v)) {
        return -1;
    }
    Py_ssize_t n = PyLong_AsSsize_t(v);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    *out = n;
    return 0;
}

/* -- the parser state while a chunk is processed -------------------------------------- */

typedef struct {
    Py_ssize_t pos, lineno, block_off, block_line, max_line, max_event;
    PyObject *parts;       /* the block's data list (self._data), borrowed from self */
    PyObject *etype;       /* owned */
    PyObject *id_buf;      /* owned */
    PyObject *committed;   /* owned */
    PyObject *block_retry; /* owned */
    PyObject *type_line;   /* owned (bytes) */
    PyObject *type_value;  /* owned (str) */
} State;

static void
state_clear(State *st)
{
    Py_CLEAR(st->etype);
    Py_CLEAR(st->id_buf);
    Py_CLEAR(st->committed);
    Py_CLEAR(st->block_retry);
    Py_CLEAR(st->type_line);
    Py_CLEAR(st->type_value);
}

/* Write the state back to the parser (the references stay owned by st as well). */
static int
state_store(PyObject *self, State *st)
{
    if (pset_ssize(self, P_POS, st->pos) < 0 || pset_ssize(self, P_LINENO, st->lineno) < 0 ||
        pset_ssize(self, P_BLOCK_OFF, st->block_off) < 0 ||
        pset_ssize(self, P_BLOCK_LINE, st->block_line) < 0) {
        return -1;
    }
    pset(self, P_TYPE, Py_NewRef(st->etype));
    pset(self, P_ID_BUF, Py_NewRef(st->id_buf));
    pset(self, P_LAST_ID, Py_NewRef(st->committed));
    pset(self, P_BLOCK_RETRY, Py_NewRef(st->block_retry));
    pset(self, P_TYPE_LINE, Py_NewRef(st->type_line));
    pset(self, P_TYPE_VALUE, Py_NewRef(st->type_value));
    return 0;
}

/* Call a Python method of the parser that raises (a limit error); returns NULL. */
static PyObject *
call_raising(PyObject *self, PyObject *name, PyObject *arg1, PyObject *arg2)
{
    PyObject *r;
    if (arg1 == NULL) {
        r = PyObject_CallMethodNoArgs(self, name);
    }
    else {
        r = PyObject_CallMethodObjArgs(self, name, arg1, arg2, NULL);
    }
    if (r != NULL) { /* the reference did not raise: that would be a bug here */
        Py_DECREF(r);
        PyErr_SetString(PyExc_SystemError, "streamkit._speedups: expected a limit error");
    }
    return NULL;
}

static PyObject *
call_raising_at(PyObject *self, PyObject *name, Py_ssize_t a, Py_ssize_t b, int two)
{
    PyObject *x = PyLong_FromSsize_t(a);
    PyObject *y = two ? PyLong_FromSsize_t(b) : NULL;
    if (x == NULL || (two && y == NULL)) {
        Py_XDECREF(x);
        Py_XDECREF(y);
        return NULL;
    }
    call_raising(self, name, x, y);
    Py_DECREF(x);
    Py_XDECREF(y);
    return NULL;
}

/* _check_open: raise through the reference when the open line or block is over a limit. */
static inline int
open_over_limit(const State *st, Py_ssize_t tail_len)
{
    Py_ssize_t start = st->block_off >= 0 ? st->block_off : st->pos;
    return tail_len > st->max_line || st->pos + tail_len - start > st->max_event;
}

static PyObject *
new_event(State *st)
{
    Py_ssize_t n = PyList_GET_SIZE(st->parts);
    PyObject *data;
    if (n == 1) {
        data = Py_NewRef(PyList_GET_ITEM(st->parts, 0));
    }
    else {
        data = PyUnicode_Join(str_lf, st->parts);
        if (data == NULL) {
            return NULL;
        }
    }
    PyObject *offset = PyLong_FromSsize_t(st->block_off);
    PyObject *line = PyLong_FromSsize_t(st->block_line);
    PyObject *ev = (offset && line) ? event_type->tp_alloc(event_type, 0) : NULL;
    if (ev == NULL) {
        Py_DECREF(data);
        Py_XDECREF(offset);
        Py_XDECREF(line);
        return NULL;
    }
    PyObject *etype = PyUnicode_GET_LENGTH(st->etype) ? st->etype : str_message;
    SLOT(ev, eoff[E_EVENT]) = Py_NewRef(etype);
    SLOT(ev, eoff[E_DATA]) = data;
    SLOT(ev, eoff[E_ID]) = Py_NewRef(st->id_buf);
    SLOT(ev, eoff[E_RETRY]) = Py_NewRef(st->block_retry);
    SLOT(ev, eoff[E_OFFSET]) = offset;
    SLOT(ev, eoff[E_LINE]) = line;
    return ev;
}

/* Process the complete lines of buf[0:size] (every line end `sep` of sep_len bytes) and
 * keep the rest as the tail. */
static PyObject *
feed_lines(PyObject *self, State *st, const char *buf, Py_ssize_t size, int sep_len)
{
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    const char sep = sep_len == 2 ? '\r' : '\n';
    const char *p = buf, *end = buf + size;
    for (;;) {
        const char *e = memchr(p, sep, end - p);
        if (e == NULL) {
            break;
        }
        Py_ssize_t n = e - p;
        if (n > st->max_line) {
            if (state_store(self, st) < 0) {
                goto fail;
            }
            call_raising_at(self, str_fail_line, st->pos, st->lineno, 1);
            goto fail;
        }
        if (n) {
            if (st->block_off < 0) {
                st->block_off = st->pos;
                st->block_line = st->lineno;
            }
            char first = p[0];
            if (first == 'd' && n >= 6 && memcmp(p, "data: ", 6) == 0) {
                PyObject *v = PyUnicode_DecodeUTF8(p + 6, n - 6, "replace");
                if (v == NULL) {
                    goto fail;
                }
                int r = PyList_Append(st->parts, v);
                Py_DECREF(v);
                if (r < 0) {
                    goto fail;
                }
            }
            else if (first == 'e' && n >= 7 && memcmp(p, "event: ", 7) == 0) {
                if (PyBytes_GET_SIZE(st->type_line) != n ||
                    memcmp(PyBytes_AS_STRING(st->type_line), p, n) != 0) {
                    PyObject *tl = PyBytes_FromStringAndSize(p, n);
                    if (tl == NULL) {
                        goto fail;
                    }
                    PyObject *tv = PyUnicode_DecodeUTF8(p + 7, n - 7, "replace");
                    if (tv == NULL) {
                        Py_DECREF(tl);
                        goto fail;
                    }
                    Py_SETREF(st->type_line, tl);
                    Py_SETREF(st->type_value, tv);
                }
                Py_SETREF(st->etype, Py_NewRef(st->type_value));
            }
            else if (first == 'i' && n >= 4 && memcmp(p, "id: ", 4) == 0) {
                if (memchr(p + 4, 0, n - 4) == NULL) {
                    PyObject *v = PyUnicode_DecodeUTF8(p + 4, n - 4, "replace");
                    if (v == NULL) {
                        goto fail;
                    }
                    Py_SETREF(st->id_buf, v);
                }
            }
            else if (first != ':') { /* a comment is ignored; anything else: _field */
                pset(self, P_TYPE, Py_NewRef(st->etype));
                pset(self, P_ID_BUF, Py_NewRef(st->id_buf));
                pset(self, P_BLOCK_RETRY, Py_NewRef(st->block_retry));
                Py_INCREF(st->parts);
                pset(self, P_DATA, st->parts);
                PyObject *line = PyBytes_FromStringAndSize(p, n);
                PyObject *off = PyLong_FromSsize_t(st->pos);
                PyObject *no = PyLong_FromSsize_t(st->lineno);
                PyObject *r = NULL;
                if (line && off && no) {
                    r = PyObject_CallMethodObjArgs(self, str_field, line, off, no, NULL);
                }
                Py_XDECREF(line);
                Py_XDECREF(off);
                Py_XDECREF(no);
                if (r == NULL) {
                    goto fail;
                }
                Py_DECREF(r);
                PyObject *t = PGET(self, P_TYPE), *i = PGET(self, P_ID_BUF);
                PyObject *b = PGET(self, P_BLOCK_RETRY), *d = PGET(self, P_DATA);
                if (t == NULL || !PyUnicode_CheckExact(t) || i == NULL || b == NULL ||
                    d != st->parts) {
                    PyErr_SetString(PyExc_SystemError,
                                    "streamkit._speedups: SSEParser._field changed its state");
                    goto fail;
                }
                Py_SETREF(st->etype, Py_NewRef(t));
                Py_SETREF(st->id_buf, Py_NewRef(i));
                Py_SETREF(st->block_retry, Py_NewRef(b));
            }
        }
        else if (st->block_off >= 0) { /* a blank line ending a block */
            if (st->pos - st->block_off > st->max_event) {
                Py_SETREF(st->committed, Py_NewRef(st->id_buf)); /* as the standard says */
                if (state_store(self, st) < 0) {
                    goto fail;
                }
                call_raising_at(self, str_fail_event, st->pos, 0, 0);
                goto fail;
            }
            if (PyList_GET_SIZE(st->parts)) {
                PyObject *ev = new_event(st);
                if (ev == NULL) {
                    goto fail;
                }
                int r = PyList_Append(out, ev);
                Py_DECREF(ev);
                if (r < 0 || PyList_SetSlice(st->parts, 0, PY_SSIZE_T_MAX, NULL) < 0) {
                    goto fail;
                }
            }
            Py_SETREF(st->committed, Py_NewRef(st->id_buf));
            Py_SETREF(st->etype, Py_NewRef(str_empty));
            Py_SETREF(st->block_retry, Py_NewRef(Py_None));
            st->block_off = -1;
        }
        st->pos += n + sep_len;
        st->lineno += 1;
        p = e + sep_len;
    }
    if (state_store(self, st) < 0) {
        goto fail;
    }
    Py_ssize_t tail_len = end - p;
    PyObject *tail = PyList_New(tail_len ? 1 : 0);
    if (tail == NULL) {
        goto fail;
    }
    if (tail_len) {
        PyObject *t = PyBytes_FromStringAndSize(p, tail_len);
        if (t == NULL) {
            Py_DECREF(tail);
            goto fail;
        }
        PyList_SET_ITEM(tail, 0, t);
    }
    pset(self, P_TAIL, tail);
    if (pset_ssize(self, P_TAIL_LEN, tail_len) < 0) {
        goto fail;
    }
    if (open_over_limit(st, tail_len)) {
        call_raising(self, str_check_open, NULL, NULL);
        goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* Whether every CR in data is followed by LF and every LF preceded by CR. */
static int
crlf_only(const char *s, Py_ssize_t n)
{
    Py_ssize_t crs = 0, lfs = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == '\r') {
            if (i + 1 >= n || s[i + 1] != '\n') {
                return 0;
            }
            crs++;
        }
        else if (s[i] == '\n') {
            lfs++;
        }
    }
    return crs == lfs;
}

static PyObject *
fallback(PyObject *self, PyObject *data)
{
    return PyObject_CallFunctionObjArgs(python_feed, self, data, NULL);
}

static PyObject *
feed(PyObject *self, PyObject *data)
{
    if (!PyBytes_CheckExact(data) || PGET(self, P_ERROR) != Py_None ||
        PGET(self, P_CLOSED) != Py_False || PGET(self, P_DIAG) != Py_False ||
        PGET(self, P_STARTED) != Py_True || PGET(self, P_SKIP_LF) != Py_False) {
        return fallback(self, data);
    }
    State st = {0};
    Py_ssize_t tail_len;
    PyObject *tail = PGET(self, P_TAIL), *parts = PGET(self, P_DATA);
    PyObject *etype = PGET(self, P_TYPE), *type_line = PGET(self, P_TYPE_LINE);
    PyObject *type_value = PGET(self, P_TYPE_VALUE), *id_buf = PGET(self, P_ID_BUF);
    PyObject *committed = PGET(self, P_LAST_ID), *block_retry = PGET(self, P_BLOCK_RETRY);
    Py_ssize_t size = PyBytes_GET_SIZE(data);
    if (size == 0 || tail == NULL || !PyList_CheckExact(tail) || parts == NULL ||
        !PyList_CheckExact(parts) || etype == NULL || !PyUnicode_CheckExact(etype) ||
        type_line == NULL || !PyBytes_CheckExact(type_line) || type_value == NULL ||
        !PyUnicode_CheckExact(type_value) || id_buf == NULL || committed == NULL ||
        block_retry == NULL || pget_ssize(self, P_TAIL_LEN, &tail_len) < 0 ||
        pget_ssize(self, P_POS, &st.pos) < 0 || pget_ssize(self, P_LINENO, &st.lineno) < 0 ||
        pget_ssize(self, P_BLOCK_OFF, &st.block_off) < 0 ||
        pget_ssize(self, P_BLOCK_LINE, &st.block_line) < 0 ||
        pget_ssize(self, P_MAX_LINE, &st.max_line) < 0 ||
        pget_ssize(self, P_MAX_EVENT, &st.max_event) < 0) {
        return fallback(self, data);
    }
    const char *s = PyBytes_AS_STRING(data);
    int sep_len = 1;
    if (memchr(s, '\r', size) != NULL) {
        if (!crlf_only(s, size)) {
            return fallback(self, data); /* CR line ends: the general path */
        }
        sep_len = 2;
    }
    else if (memchr(s, '\n', size) == NULL) { /* no line end: the line goes on */
        if (PyList_Append(tail, data) < 0) {
            return NULL;
        }
        tail_len += size;
        if (pset_ssize(self, P_TAIL_LEN, tail_len) < 0) {
            return NULL;
        }
        if (open_over_limit(&st, tail_len)) {
            return call_raising(self, str_check_open, NULL, NULL);
        }
        return PyList_New(0);
    }
    PyObject *buf;
    Py_ssize_t pieces = PyList_GET_SIZE(tail);
    if (pieces) {
        Py_ssize_t total = size;
        for (Py_ssize_t i = 0; i < pieces; i++) {
            PyObject *piece = PyList_GET_ITEM(tail, i);
            if (!PyBytes_CheckExact(piece)) {
                return fallback(self, data); /* a bytearray fed earlier */
            }
            total += PyBytes_GET_SIZE(piece);
        }
        buf = PyBytes_FromStringAndSize(NULL, total);
        if (buf == NULL) {
            return NULL;
        }
        char *w = PyBytes_AS_STRING(buf);
        for (Py_ssize_t i = 0; i < pieces; i++) {
            PyObject *piece = PyList_GET_ITEM(tail, i);
            memcpy(w, PyBytes_AS_STRING(piece), PyBytes_GET_SIZE(piece));
            w += PyBytes_GET_SIZE(piece);
        }
        memcpy(w, s, size);
        PyObject *empty = PyList_New(0);
        if (empty == NULL) {
            Py_DECREF(buf);
            return NULL;
        }
        pset(self, P_TAIL, empty);
        if (pset_ssize(self, P_TAIL_LEN, 0) < 0) {
            Py_DECREF(buf);
            return NULL;
        }
    }
    else {
        buf = Py_NewRef(data);
    }
    st.parts = parts;
    Py_INCREF(parts);
    st.etype = Py_NewRef(etype);
    st.id_buf = Py_NewRef(id_buf);
    st.committed = Py_NewRef(committed);
    st.block_retry = Py_NewRef(block_retry);
    st.type_line = Py_NewRef(type_line);
    st.type_value = Py_NewRef(type_value);
    PyObject *out = feed_lines(self, &st, PyBytes_AS_STRING(buf), PyBytes_GET_SIZE(buf), sep_len);
    state_clear(&st);
    Py_DECREF(parts);
    Py_DECREF(buf);
    return out;
}

static PyMethodDef feed_def = {
    "feed", (PyCFunction)feed, METH_O,
    "feed($self, data, /)\n--\n\nConsume the next bytes of the stream; return the events they "
    "complete.",
};

/* -- install ------------------------------------------------------------------------- */

static int
slot_offset(PyTypeObject *tp, const char *name, Py_ssize_t *out)
{
    PyObject *d = PyDict_GetItemString(tp->tp_dict, name); /* borrowed */
    if (d == NULL || !Py_IS_TYPE(d, &PyMemberDescr_Type) ||
        ((PyDescrObject *)d)->d_type != tp ||
        ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX ||
        (((PyMemberDescrObject *)d)->d_member->flags & READONLY)) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a plain object slot", tp->tp_name, name);
        return -1;
    }
    *out = ((PyMemberDescrObject *)d)->d_member->offset;
    return 0;
}

static PyObject *
install(PyObject *module, PyObject *args)
{
    PyObject *ptype, *etype, *pfeed;
    if (!PyArg_ParseTuple(args, "O!O!O:install", &PyType_Type, &ptype, &PyType_Type, &etype,
                          &pfeed)) {
        return NULL;
    }
    PyTypeObject *pt = (PyTypeObject *)ptype, *et = (PyTypeObject *)etype;
    Py_ssize_t new_poff[P_COUNT], new_eoff[E_COUNT]; /* committed only when all match */
    for (int i = 0; i < P_COUNT; i++) {
        if (slot_offset(pt, parser_slots[i], &new_poff[i]) < 0) {
            return NULL;
        }
    }
    for (int i = 0; i < E_COUNT; i++) {
        if (slot_offset(et, event_slots[i], &new_eoff[i]) < 0) {
            return NULL;
        }
    }
    /* The six slots must be all the event's instance storage: no dict, no weakref list. */
    if (et->tp_itemsize != 0 || et->tp_dictoffset != 0 || et->tp_weaklistoffset != 0 ||
        et->tp_basicsize != (Py_ssize_t)(sizeof(PyObject) + E_COUNT * sizeof(PyObject *)) ||
        et->tp_base != &PyBaseObject_Type) {
        PyErr_Format(PyExc_TypeError, "%s has not the layout of six object slots",
                     et->tp_name);
        return NULL;
    }
    PyObject *method = PyDescr_NewMethod(pt, &feed_def);
    if (method == NULL) {
        return NULL;
    }
    memcpy(poff, new_poff, sizeof(poff));
    memcpy(eoff, new_eoff, sizeof(eoff));
    Py_XSETREF(parser_type, (PyTypeObject *)Py_NewRef(ptype));
    Py_XSETREF(event_type, (PyTypeObject *)Py_NewRef(etype));
    Py_XSETREF(python_feed, Py_NewRef(pfeed));
    return method;
}

static PyMethodDef module_methods[] = {
    {"install", install, METH_VARARGS,
     "install(parser_class, event_class, python_feed, /)\n--\n\n"
     "Check the classes' layout and return the compiled feed method (TypeError if the "
     "layout differs)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "streamkit._speedups",
    "The compiled hot path of streamkit (see docs/speedups.md).", -1, module_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    str_message = PyUnicode_InternFromString("message");
    str_empty = PyUnicode_InternFromString("");
    str_lf = PyUnicode_InternFromString("\n");
    str_field = PyUnicode_InternFromString("_field");
    str_fail_line = PyUnicode_InternFromString("_fail_line");
    str_fail_event = PyUnicode_InternFromString("_fail_event");
    str_check_open = PyUnicode_InternFromString("_check_open");
    if (!str_message || !str_empty || !str_lf || !str_field || !str_fail_line ||
        !str_fail_event || !str_check_open) {
        return NULL;
    }
    return PyModule_Create(&module_def);
}
