// The nodes of the autograd graph. Every differentiable op that sees an input requiring grad
// records one Node: it knows the nodes of its inputs (next()) and turns the gradient of its
// output into gradients of its inputs. Leaves end in an AccumulateGrad node that adds into
// their grad(). Part of autograd/.
#pragma once
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ink/autograd/grad_mode.hpp"
#include "ink/tensor/map.hpp"
#include "ink/tensor/tensor.hpp"

namespace ink {
// Defined in ops/; used here to sum gradients (differentiably when create_graph is on).
template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
}  // namespace ink

namespace ink::autograd {

template <class T>
class BackwardFn;
template <class T>
struct InputRef;

template <class T>
class Node : public std::enable_shared_from_this<Node<T>> {
 public:
  virtual ~Node() = default;
  virtual std::string name() const = 0;
  // Gradients of the inputs, one per entry of next(); undefined where an input needs none.
  virtual std::vector<Tensor<T>> apply(const Tensor<T>& grad_output) = 0;
  // Frees what the forward pass saved for backward.
  virtual void release_saved() {}
  // The node of each input (null for inputs that do not require grad).
  const std::vector<std::shared_ptr<Node<T>>>& next() const { return next_; }

 protected:
  std::vector<std::shared_ptr<Node<T>>> next_;
  template <class U>
  friend std::shared_ptr<Node<U>> gradient_edge(const Tensor<U>&);
  template <class U>
  friend void record_node(const char*, const InputRef<U>*, std::size_t, Tensor<U>&, BackwardFn<U>, bool);
};

// The backward closure of one op, type-erased: f(grad of output, output) -> {grad of each
// input}. Lighter than std::function, which every op's closure used to go through: the closure
// is never copied, so each closure type costs one small thunk (call or destroy) instead of
// std::function's invoker and manager (with a copy constructor and RTTI). ~100 closures are
// compiled into a program that builds a model, so this is part of every user's compile time.
template <class T>
class BackwardFn {
 public:
  using Result = std::vector<Tensor<T>>;

  BackwardFn() = default;
  template <class F>
  explicit BackwardFn(F&& f)
      : obj_(new std::decay_t<F>(std::forward<F>(f))), thunk_(&thunk<std::decay_t<F>>) {}
  BackwardFn(BackwardFn&& o) noexcept : obj_(std::exchange(o.obj_, nullptr)), thunk_(o.thunk_) {}
  BackwardFn& operator=(BackwardFn&& o) noexcept {
    if (this != &o) {
      reset();
      obj_ = std::exchange(o.obj_, nullptr);
      thunk_ = o.thunk_;
    }
    return *this;
  }
  ~BackwardFn() { reset(); }

  explicit operator bool() const { return obj_ != nullptr; }
  Result operator()(const Tensor<T>& grad_output, const Tensor<T>& output) const {
    return thunk_(obj_, &grad_output, &output);
  }
  // Destroys the closure (and the tensors it saved).
  void reset() {
    if (obj_) thunk_(std::exchange(obj_, nullptr), nullptr, nullptr);
  }

 private:
  // Calls the closure, or with null tensors deletes it: one function per closure type.
  template <class F>
  static Result thunk(void* obj, const Tensor<T>* grad_output, const Tensor<T>* output) {
    F* f = static_cast<F*>(obj);
    if (!grad_output) {
      delete f;
      return {};
    }
    return (*f)(*grad_output, *output);
  }

  void* obj_ = nullptr;
  Result (*thunk_)(void*, const Tensor<T>*, const Tensor<T>*) = nullptr;
};

// The backward of one op, given as a function of (grad of output, output). The output is
// passed only when the op asked to save it; it is saved without a reference to its own node
// (which would be a cycle) and rebuilt on use.
template <class T>
class FunctionNode final : public Node<T> {
 public:
  FunctionNode(const char* name, BackwardFn<T> backward) : name_(name), backward_(std::move(backward)) {}

  std::string name() const override { return name_; }

  std::vector<Tensor<T>> apply(const Tensor<T>& grad_output) override {
    INK_CHECK(AutogradError, backward_, name_,
              ": trying to backward through the graph a second time (or directly access saved tensors after they "
              "have already been freed). Pass retain_graph = true to the first backward() if you need to backward "
              "twice.");
    Tensor<T> out;
    if (saved_output_.defined()) {
      out = saved_output_.detach();
      if (GradMode::is_enabled()) out.meta().grad_fn = this->shared_from_this();
    }
    return backward_(grad_output, out);
  }

  void release_saved() override {
    backward_.reset();
    saved_output_ = Tensor<T>();
  }

  void save_output(const Tensor<T>& out) { saved_output_ = out.detach(); }

 private:
  const char* name_;  // a string literal at every call site
  BackwardFn<T> backward_;
  Tensor<T> saved_output_;
};

// Adds the incoming gradient into a leaf's grad(). With grad mode on (create_graph), the sum
// is recorded so that the gradient itself can be differentiated.
template <class T>
class AccumulateGrad final : public Node<T> {
 public:
  explicit AccumulateGrad(Tensor<T> leaf) : leaf_(std::move(leaf)) {}
  std::string name() const override { return "AccumulateGrad"; }

  std::vector<Tensor<T>> apply(const Tensor<T>& g) override {
    INK_CHECK(ShapeError, g.shape() == leaf_.shape(), "AccumulateGrad: gradient of shape ",
                      g.shape(), " for a leaf of shape ", leaf_.shape());
    Tensor<T> old = leaf_.grad();
    if (GradMode::is_enabled()) {
      leaf_.set_grad(old.defined() ? ink::add(old, g) : g);
    } else if (!old.defined()) {
      // A private copy: g may alias other gradients or be a broadcast view.
      leaf_.set_grad(detail::contiguous_copy(g));
    } else if (old.requires_grad()) {
      leaf_.set_grad(ink::add(old.detach(), g));
    } else {
      detail::update_inplace(old, g, [](T a, T b) { return a + b; }, "AccumulateGrad");
    }
    return {};
  }

  const Tensor<T>& leaf() const { return leaf_; }

 private:
  Tensor<T> leaf_;
};

// The node a gradient for `t` flows into: its grad_fn, or for a leaf that requires grad its
// (shared) AccumulateGrad; null when `t` does not require grad.
template <class T>
std::shared_ptr<Node<T>> gradient_edge(const Tensor<T>& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  if (t.grad_fn()) return t.grad_fn();
  Tensor<T> leaf = t;
  auto& meta = leaf.meta();
  if (auto acc = meta.grad_accumulator.lock()) return acc;
  auto acc = std::make_shared<AccumulateGrad<T>>(t);
  meta.grad_accumulator = acc;
  return acc;
}

// One input of a recorded op, by reference: the ops list their inputs as `{a, b}`, and a list
// of Tensors would copy each (a reference count up and down, and their clean-ups, at each of
// the ~100 call sites of a program that trains a CNN). A temporary in the list lives until
// record() returns, which is as long as it is used.
template <class T>
struct InputRef {
  InputRef(const Tensor<T>& t) : tensor(&t) {}  // implicit: `{a, b}` makes the list
  const Tensor<T>* tensor;
};

// True when an op on these inputs must record a node.
template <class T>
bool needs_grad(const InputRef<T>* inputs, std::size_t n) {
  if (!GradMode::is_enabled()) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (inputs[i].tensor->defined() && inputs[i].tensor->requires_grad()) return true;
  return false;
}

// Records `out` as computed from `inputs` by an op called `name` (a string literal) whose
// backward is `backward(grad_out, out) -> {grad of each input}`, when an input requires grad
// (the caller checked). With save_output, backward receives the output tensor. Not a template
// on the closure: the node is built by one function per T, not one per op.
template <class T>
void record_node(const char* name, const InputRef<T>* inputs, std::size_t n, Tensor<T>& out,
                 BackwardFn<T> backward, bool save_output) {
  auto node = std::make_shared<FunctionNode<T>>(name, std::move(backward));
  node->next_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) node->next_.push_back(gradient_edge(*inputs[i].tensor));
  if (save_output) node->save_output(out);
  out.meta().grad_fn = std::move(node);
}

// Records `out` as computed from `inputs` by an op called `name` (a string literal) whose
// backward is `backward(grad_out, out) -> {grad of each input}`. Does nothing unless grad mode
// is on and an input requires grad. With save_output, backward receives the output tensor.
template <class T, class F>
void record(const char* name, const InputRef<T>* inputs, std::size_t n, Tensor<T>& out, F&& backward,
            bool save_output) {
  // Integer tensors never require grad, so for them no node is built, and none of the graph
  // machinery is compiled for the integer instantiations of the ops.
  if constexpr (std::is_floating_point_v<T>) {
    if (!needs_grad(inputs, n)) return;
    record_node(name, inputs, n, out, BackwardFn<T>(std::forward<F>(backward)), save_output);
  }
}

// The form ops use: `record("MulBackward", {a, b}, out, backward)`. The inputs are an
// initializer list of references (a stack array of pointers), not a vector: no heap allocation
// and no tensor copied per op call. T is deduced from `out`.
template <class T, class F>
void record(const char* name, std::initializer_list<InputRef<std::type_identity_t<T>>> inputs, Tensor<T>& out,
            F&& backward, bool save_output = false) {
  record(name, inputs.begin(), inputs.size(), out, std::forward<F>(backward), save_output);
}

// For a variable number of inputs (cat, stack).
template <class T, class F>
void record(const char* name, const std::vector<Tensor<T>>& inputs, Tensor<T>& out, F&& backward,
            bool save_output = false) {
  const std::vector<InputRef<T>> refs(inputs.begin(), inputs.end());
  record(name, refs.data(), refs.size(), out, std::forward<F>(backward), save_output);
}

}  // namespace ink::autograd
