import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Route, Routes } from 'react-router-dom';
import { AuthProvider, RequireAuth } from './auth.tsx';
import { Layout } from './components/Layout.tsx';
import { useDocumentTitle } from './hooks.ts';
import { Loading } from './components/States.tsx';
import { ClassesPage } from './pages/Classes.tsx';
import { LoginPage } from './pages/Login.tsx';
import './styles.css';
import './forms.css';
import './components.css';
import './data.css';

// The pages with charts load ECharts; they come in their own chunks, when first opened.
const ClassPage = lazy(() =>
  import('./pages/ClassPage.tsx').then((m) => ({ default: m.ClassPage })),
);
const LearnerPage = lazy(() =>
  import('./pages/LearnerPage.tsx').then((m) => ({ default: m.LearnerPage })),
);

function NotFound() {
  useDocumentTitle('Page not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link to="/">Go to your classes</Link>.
      </p>
    </>
  );
}

function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route
            element={
              <RequireAuth>
                <Layout />
              </RequireAuth>
            }
          >
            <Route index element={<ClassesPage />} />
            <Route
              path="classes/:classId"
              element={
                <Suspense fallback={<Loading label="Loading the class page…" />}>
                  <ClassPage />
                </Suspense>
              }
            />
            <Route
              path="learners/:userId"
              element={
                <Suspense fallback={<Loading label="Loading the learner page…" />}>
                  <LearnerPage />
                </Suspense>
              }
            />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </AuthProvider>
    </BrowserRouter>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
