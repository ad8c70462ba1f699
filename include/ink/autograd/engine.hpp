// The backward engine: walks the graph from the outputs in dependency order (Kahn's
// algorithm), sums the gradients arriving at each node, and applies it. backward() and
// autograd::grad() are its two entry points. Part of autograd/.
#pragma once
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "ink/autograd/node.hpp"
#include "ink/tensor/creation.hpp"

namespace ink::autograd {
namespace detail {

// Pointer -> index, for the walk below: open addressing with linear probing in a table kept at
// most half full. Not a template, and built on std::vector<std::size_t>: a
// std::unordered_map here was ~0.5% of the compiler's work on a program that trains a CNN.
class PointerIndex {
 public:
  // The index of p (not null) and false, or, when p is new, `next` (now its index) and true.
  std::pair<std::size_t, bool> find_or_insert(const void* p, std::size_t next) {
    if (2 * (count_ + 1) > capacity()) grow();
    const std::size_t key = reinterpret_cast<std::uintptr_t>(p);
    for (std::size_t i = home(key);; i = (i + 1) & (capacity() - 1)) {
      if (table_[2 * i] == key) return {table_[2 * i + 1], false};
      if (table_[2 * i] == 0) {
        table_[2 * i] = key;
        table_[2 * i + 1] = next;
        ++count_;
        return {next, true};
      }
    }
  }
  // The index of p, or -1 when p was never inserted (or is null).
  std::ptrdiff_t find(const void* p) const {
    const std::size_t key = reinterpret_cast<std::uintptr_t>(p);
    if (key == 0 || table_.empty()) return -1;
    for (std::size_t i = home(key);; i = (i + 1) & (capacity() - 1)) {
      if (table_[2 * i] == key) return static_cast<std::ptrdiff_t>(table_[2 * i + 1]);
      if (table_[2 * i] == 0) return -1;
    }
  }

 private:
  // Fibonacci hashing of the address (its low bits are alignment, the multiply mixes the rest).
  std::size_t home(std::size_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  std::size_t capacity() const { return table_.size() / 2; }
  void grow() {
    std::vector<std::size_t> old(2 * std::max<std::size_t>(16, 2 * capacity()));
    old.swap(table_);
    shift_ = 64 - std::countr_zero(capacity());
    for (std::size_t j = 0; j < old.size(); j += 2)
      if (old[j] != 0)
        for (std::size_t i = home(old[j]);; i = (i + 1) & (capacity() - 1))
          if (table_[2 * i] == 0) {
            table_[2 * i] = old[j];
            table_[2 * i + 1] = old[j + 1];
            break;
          }
  }

  // Entry i: the address at 2i (0: empty) and its index at 2i + 1 (pairs of size_t, but
  // as one vector of size_t, a type every program has compiled already).
  std::vector<std::size_t> table_;
  std::size_t count_ = 0;
  int shift_ = 64;
};

template <class T>
struct Root {
  std::shared_ptr<Node<T>> node;
  Tensor<T> grad;
};

// Runs the graph below the root_count `roots`. With `capture` empty, every reachable node runs
// and leaves accumulate into grad() (backward()). Otherwise only nodes on a path to a captured
// node run, no leaf's grad() changes, and the total gradient reaching each captured node is
// returned (autograd::grad()). Without keep_graph, every node that ran frees its saved tensors.
// What the walk knows of a node lives in one Slot, found through one PointerIndex: with a map
// or set per fact (and a deque), their instantiations were ~9 KB of every program's object code.
template <class T>
std::vector<Tensor<T>> run_backward(const Root<T>* roots, std::size_t root_count,
                                    const std::vector<std::shared_ptr<Node<T>>>& capture,
                                    bool keep_graph, bool create_graph) {
  using NodePtr = Node<T>*;
  struct Slot {
    NodePtr node;
    int dependencies = 0;           // incoming edges whose gradient has not arrived yet
    bool needed = true;             // on a path to a captured node (all are, without captures)
    std::ptrdiff_t captured = -1;   // its position in `capture`, if any
    bool queued = false;            // a root already in the ready queue
    Tensor<T> grad;                 // the sum of the gradients that reached it so far
  };
  std::vector<Slot> slots;
  PointerIndex slot_of;
  // The slot of a node and whether it is new.
  auto find_or_add = [&](NodePtr n) -> std::pair<std::size_t, bool> {
    const auto [slot, added] = slot_of.find_or_insert(n, slots.size());
    if (added) slots.push_back(Slot{n});
    return {slot, added};
  };
  auto child_slot = [&](NodePtr n, std::size_t i) -> std::ptrdiff_t { return slot_of.find(n->next()[i].get()); };

  // 1. Collect the reachable graph and each node's number of incoming edges.
  std::vector<std::size_t> order;  // post-order: children before parents
  {
    // Frames of two entries: a slot, and the next of its edges to follow.
    std::vector<std::size_t> stack;
    for (std::size_t r = 0; r < root_count; ++r) {
      const auto [root, added] = find_or_add(roots[r].node.get());
      if (!added) continue;
      stack.push_back(root);
      stack.push_back(0);
      while (!stack.empty()) {
        const std::size_t s = stack[stack.size() - 2];
        std::size_t& i = stack.back();
        const NodePtr n = slots[s].node;
        if (i < n->next().size()) {
          const NodePtr child = n->next()[i++].get();
          if (!child) continue;
          const auto [c, new_child] = find_or_add(child);  // may move `slots`, not `stack`
          ++slots[c].dependencies;
          if (new_child) {  // `i` is not used after this: the pushes may move it
            stack.push_back(c);
            stack.push_back(0);
          }
        } else {
          order.push_back(s);
          stack.pop_back();
          stack.pop_back();
        }
      }
    }
  }
  // 2. With captures, keep only nodes from which a captured node can be reached.
  for (std::size_t i = 0; i < capture.size(); ++i)
    if (const std::ptrdiff_t c = slot_of.find(capture[i].get()); c >= 0)
      slots[static_cast<std::size_t>(c)].captured = static_cast<std::ptrdiff_t>(i);
  if (!capture.empty())
    for (std::size_t s : order) {  // children come first in post-order
      bool need = slots[s].captured >= 0;
      for (std::size_t i = 0; !need && i < slots[s].node->next().size(); ++i) {
        const std::ptrdiff_t c = child_slot(slots[s].node, i);
        need = c >= 0 && slots[static_cast<std::size_t>(c)].needed;
      }
      slots[s].needed = need;
    }

  // 3. Execute in dependency order.
  AutoGradMode mode(create_graph);
  std::vector<Tensor<T>> captured(capture.size());
  auto accumulate = [&](std::size_t s, const Tensor<T>& g) {
    Tensor<T>& sum = slots[s].grad;
    sum = sum.defined() ? ink::add(sum, g) : g;
  };
  std::vector<std::size_t> ready;  // a FIFO queue: ready[head..] are waiting
  for (std::size_t r = 0; r < root_count; ++r)
    accumulate(static_cast<std::size_t>(slot_of.find(roots[r].node.get())), roots[r].grad);
  for (std::size_t r = 0; r < root_count; ++r) {
    const std::size_t s = static_cast<std::size_t>(slot_of.find(roots[r].node.get()));
    if (slots[s].dependencies == 0 && !slots[s].queued) {  // a node given twice as a root runs once
      slots[s].queued = true;
      ready.push_back(s);
    }
  }

  for (std::size_t head = 0; head < ready.size(); ++head) {
    Slot& slot = slots[ready[head]];
    const NodePtr n = slot.node;
    const Tensor<T> g = std::move(slot.grad);
    slot.grad = Tensor<T>();
    if (slot.captured >= 0) captured[static_cast<std::size_t>(slot.captured)] = g;
    const bool is_leaf_sink = dynamic_cast<AccumulateGrad<T>*>(n) != nullptr;
    std::vector<Tensor<T>> grads;
    if (slot.needed && g.defined() && !(is_leaf_sink && !capture.empty())) {
      grads = n->apply(g);
      if (!keep_graph) n->release_saved();
    }
    for (std::size_t i = 0; i < n->next().size(); ++i) {
      const std::ptrdiff_t c = child_slot(n, i);
      if (c < 0) continue;
      const std::size_t child = static_cast<std::size_t>(c);
      if (i < grads.size() && grads[i].defined()) accumulate(child, grads[i]);
      if (--slots[child].dependencies == 0) ready.push_back(child);
    }
  }
  return captured;
}

template <class T>
Tensor<T> seed_gradient(const Tensor<T>& output, const Tensor<T>& given, const char* op) {
  if (given.defined()) {
    INK_CHECK(ShapeError, given.shape() == output.shape(), op, ": gradient of shape ",
                      given.shape(), " for an output of shape ",
                      output.shape());
    return given;
  }
  INK_CHECK(AutogradError, output.numel() == 1, op,
                       ": grad can be implicitly created only for one-element outputs, but the "
                       "output has shape ", output.shape(),
                       "; pass a gradient of that shape");
  return ones<T>(output.shape());
}

}  // namespace detail

// Gradients of sum_i <outputs[i], grad_outputs[i]> with respect to each input, returned
// instead of accumulated into grad(). grad_outputs may be empty when every output has one
// element. With create_graph the result is itself differentiable (higher-order gradients);
// retain_graph defaults to create_graph. An input the outputs do not depend on is an error
// unless allow_unused, in which case its gradient is undefined.
template <class T>
std::vector<Tensor<T>> grad(const std::vector<Tensor<T>>& outputs, const std::vector<Tensor<T>>& inputs,
                            const std::vector<Tensor<T>>& grad_outputs = {}, bool create_graph = false,
                            std::optional<bool> retain_graph = std::nullopt, bool allow_unused = false) {
  INK_CHECK(ValueError, grad_outputs.empty() || grad_outputs.size() == outputs.size(),
                    "autograd::grad: got ", grad_outputs.size(), " grad_outputs for ",
                    outputs.size(), " outputs");
  std::vector<detail::Root<T>> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    INK_CHECK(AutogradError, outputs[i].requires_grad(), "autograd::grad: output ", i,
                         " does not require grad and has no grad_fn");
    roots.push_back({gradient_edge(outputs[i]),
                     detail::seed_gradient(outputs[i], grad_outputs.empty() ? Tensor<T>() : grad_outputs[i],
                                           "autograd::grad")});
  }
  std::vector<std::shared_ptr<Node<T>>> capture;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    INK_CHECK(AutogradError, inputs[i].requires_grad(), "autograd::grad: input ", i,
                         " does not require grad");
    capture.push_back(gradient_edge(inputs[i]));
  }
  auto result = detail::run_backward(roots.data(), roots.size(), capture, retain_graph.value_or(create_graph), create_graph);
  for (std::size_t i = 0; i < result.size(); ++i) {
    INK_CHECK(AutogradError, allow_unused || result[i].defined(), "autograd::grad: input ", i,
                         " was not used to compute the outputs (pass allow_unused = true)");
    if (result[i].defined() && result[i].shape() != inputs[i].shape())
      throw ShapeError("autograd::grad: internal error, gradient shape " + to_string(result[i].shape()) +
                       " differs from input shape " + to_string(inputs[i].shape()));
  }
  return result;
}

}  // namespace ink::autograd

namespace ink {

template <class T>
void Tensor<T>::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  INK_CHECK(AutogradError, requires_grad(), "backward: the tensor does not require grad and has no "
                                        "grad_fn (did you forget requires_grad_() on an input, or "
                                        "run the forward pass under NoGradGuard?)");
  const autograd::detail::Root<T> root{autograd::gradient_edge(*this),
                                       autograd::detail::seed_gradient(*this, gradient, "backward")};
  autograd::detail::run_backward<T>(&root, 1, {}, retain_graph || create_graph, create_graph);
}

}  // namespace ink
