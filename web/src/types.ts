// Shapes of the API answers the dashboard reads (see src/modules/*/*.schemas.ts).

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
}

export type LoginAnswer = TokenPair | { mfa_required: true; mfa_token: string };

export interface User {
  id: string;
  email: string | null;
  name: string;
  role: 'admin' | 'instructor' | 'learner';
  learner_id: string | null;
}

export interface Me {
  type: 'user' | 'api_key';
  user: User | null;
  api_key: { id: string; name: string } | null;
  scopes: string[];
  class_ids: string[] | null;
}

export interface Averages {
  stuck: number | null;
  got_it: number | null;
  pause: number | null;
  example: number | null;
  confidence: number | null;
}

export interface Summary {
  count: number;
  first_ts: string | null;
  last_ts: string | null;
  averages: Averages;
}

export interface ClassInfo {
  class_id: string;
  records: number;
  students: number;
  first_ts: string;
  last_ts: string;
}

export interface StudentSummary extends Summary {
  student_id: string;
}

export interface DaySummary extends Summary {
  day: string;
  students?: number;
}

export interface ClassMastery extends Summary {
  class_id: string;
  students: number;
  from: string | null;
  to: string | null;
  by_student?: StudentSummary[];
  series?: DaySummary[];
}

export type Priority = 'high' | 'medium' | 'low';

export interface Recommendation {
  code: string;
  title: string;
  action: string;
  rationale: string;
  priority: Priority;
  evidence: {
    metric: string;
    value: number;
    comparison: string;
    threshold: number;
    triggered: boolean;
  }[];
}

export interface Recommendations {
  class_id: string;
  based_on: { count: number; students: number; averages: Averages };
  recommendations: Recommendation[];
}

export interface ClassConcepts {
  class_id: string;
  concepts: {
    concept_id: string;
    learners: number;
    mean_mastery: number;
    share_mastered: number;
  }[];
  matrix: { learners: string[]; concepts: string[]; values: (number | null)[][] };
}

export interface Member {
  user_id: string;
  role: string;
  name: string;
  email: string | null;
  learner_id: string | null;
  active: boolean;
}

export interface ConceptMastery {
  concept_id: string;
  attempts: number;
  correct: number;
  ratio: number;
  p_known: number;
  mastery: number;
  mastered: boolean;
  last_attempt_at: string;
}

export interface LearnerMastery {
  user_id: string;
  concepts: ConceptMastery[];
}

export interface LearningEvent {
  id: string;
  event_type: string;
  user_id: string;
  class_id: string | null;
  course_id: string | null;
  lesson_id: string | null;
  concept_ids: string[];
  correct: boolean | null;
  score: number | null;
  duration_ms: number | null;
  occurred_at: string;
  received_at: string;
}

export interface EventPage {
  user_id: string;
  events: LearningEvent[];
  next_cursor: string | null;
}

export interface LearnerPulse extends Summary {
  user_id: string;
  series: DaySummary[];
}

/** A date window; '' means open on that side. Dates are YYYY-MM-DD (UTC). */
export interface Range {
  from: string;
  to: string;
}
