// The backward engine: walks the graph from the outputs in dependency order (Kahn's
// algorithm), sums the gradients arriving at each node, and applies it. backward() and
// autograd::grad() are its two entry points. Part of autograd/.
#pragma once
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ink/autograd/node.hpp"
#include "ink/tensor/creation.hpp"

namespace ink::autograd {
namespace detail {

template <class T>
struct Root {
  std::shared_ptr<Node<T>> node;
  Tensor<T> grad;
};

// Runs the graph below `roots`. With `capture` empty, every reachable node runs and leaves
// accumulate into grad() (backward()). Otherwise only nodes on a path to a captured node run,
// no leaf's grad() changes, and the total gradient reaching each captured node is returned
// (autograd::grad()). Without keep_graph, every node that ran frees its saved tensors.
template <class T>
std::vector<Tensor<T>> run_backward(const std::vector<Root<T>>& roots,
                                    const std::vector<std::shared_ptr<Node<T>>>& capture,
                                    bool keep_graph, bool create_graph) {
  using NodePtr = Node<T>*;
  // 1. Collect the reachable graph and each node's number of incoming edges.
  std::unordered_map<NodePtr, int> dependencies;
  std::vector<NodePtr> order;  // discovery order, reversed post-order below
  {
    std::unordered_set<NodePtr> seen;
    std::vector<std::pair<NodePtr, std::size_t>> stack;
    for (const auto& r : roots) {
      if (!seen.insert(r.node.get()).second) continue;
      stack.push_back({r.node.get(), 0});
      while (!stack.empty()) {
        auto& [n, i] = stack.back();
        if (i < n->next().size()) {
          NodePtr child = n->next()[i++].get();
          if (!child) continue;
          ++dependencies[child];
          if (seen.insert(child).second) stack.push_back({child, 0});
        } else {
          order.push_back(n);  // post-order: children before parents
          stack.pop_back();
        }
      }
    }
  }
  // 2. With captures, keep only nodes from which a captured node can be reached.
  std::unordered_map<NodePtr, std::size_t> capture_index;
  for (std::size_t i = 0; i < capture.size(); ++i) capture_index[capture[i].get()] = i;
  std::unordered_set<NodePtr> needed;
  if (!capture.empty()) {
    for (NodePtr n : order) {  // children come first in post-order
      bool need = capture_index.count(n) > 0;
      for (const auto& c : n->next()) need = need || (c && needed.count(c.get()));
      if (need) needed.insert(n);
    }
  }
  auto should_run = [&](NodePtr n) { return capture.empty() || needed.count(n); };

  // 3. Execute in dependency order.
  AutoGradMode mode(create_graph);
  std::unordered_map<NodePtr, Tensor<T>> buffers;
  std::vector<Tensor<T>> captured(capture.size());
  auto accumulate = [&](NodePtr n, const Tensor<T>& g) {
    auto it = buffers.find(n);
    if (it == buffers.end()) buffers.emplace(n, g);
    else it->second = ink::add(it->second, g);
  };
  std::deque<NodePtr> ready;
  for (const auto& r : roots) accumulate(r.node.get(), r.grad);
  for (const auto& r : roots)
    if (dependencies[r.node.get()] == 0 &&
        std::find(ready.begin(), ready.end(), r.node.get()) == ready.end())
      ready.push_back(r.node.get());

  while (!ready.empty()) {
    NodePtr n = ready.front();
    ready.pop_front();
    Tensor<T> g = std::move(buffers[n]);
    buffers.erase(n);
    if (auto c = capture_index.find(n); c != capture_index.end()) captured[c->second] = g;
    const bool is_leaf_sink = dynamic_cast<AccumulateGrad<T>*>(n) != nullptr;
    std::vector<Tensor<T>> grads;
    if (should_run(n) && g.defined() && !(is_leaf_sink && !capture.empty())) {
      grads = n->apply(g);
      if (!keep_graph) n->release_saved();
    }
    for (std::size_t i = 0; i < n->next().size(); ++i) {
      NodePtr child = n->next()[i].get();
      if (!child) continue;
      if (i < grads.size() && grads[i].defined()) accumulate(child, grads[i]);
      if (--dependencies[child] == 0) ready.push_back(child);
    }
  }
  return captured;
}

template <class T>
Tensor<T> seed_gradient(const Tensor<T>& output, const Tensor<T>& given, const char* op) {
  if (given.defined()) {
    INK_CHECK(ShapeError, given.shape() == output.shape(), op, ": gradient of shape ",
                      to_string(given.shape()), " for an output of shape ",
                      to_string(output.shape()));
    return given;
  }
  INK_CHECK(AutogradError, output.numel() == 1, op,
                       ": grad can be implicitly created only for one-element outputs, but the "
                       "output has shape ", to_string(output.shape()),
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
  auto result = detail::run_backward(roots, capture, retain_graph.value_or(create_graph), create_graph);
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
  std::vector<autograd::detail::Root<T>> roots{
      {autograd::gradient_edge(*this), autograd::detail::seed_gradient(*this, gradient, "backward")}};
  autograd::detail::run_backward<T>(roots, {}, retain_graph || create_graph, create_graph);
}

}  // namespace ink
